namespace Porter.Testbed;

/// <summary>
/// Everything a test world, the demo or the bench made, removed in reverse order of making (server before workspace,
/// users before groups, namespaces last). Cleanup goes on past a failing item and reports it.
/// </summary>
public sealed class Disposables : IDisposable
{
    private readonly List<IDisposable> _items = [];

    public T Keep<T>(T item) where T : IDisposable
    {
        _items.Add(item);
        return item;
    }

    /// <summary>Stops tracking an item the caller disposes itself (e.g. a server being replaced).</summary>
    public void Forget(IDisposable item) => _items.Remove(item);

    public void Dispose()
    {
        for (var i = _items.Count - 1; i >= 0; i--)
        {
            try
            {
                _items[i].Dispose();
            }
            catch (Exception e)
            {
                Console.Error.WriteLine($"cleanup: {e.Message}");
            }
        }
        _items.Clear();
    }
}
