namespace Porter.Server.Namespaces;

/// <summary>
/// Somewhere outside the server's process that keeps a held namespace alive when the server's own mount namespace
/// (and with it every hold's bind mount) dies: under systemd, the service's file descriptor store. Names identify
/// holds; a descriptor stored under a name is handed back at the next start.
/// </summary>
public interface IHoldStore
{
    /// <summary>Stores a descriptor of the namespace under the name (the store takes its own copy); false when there is no store.</summary>
    bool Keep(string name, int fd);

    /// <summary>Drops what is stored under the name; nothing happens if there is nothing.</summary>
    void Forget(string name);
}

/// <summary>No store: holds live only as long as the mount namespace they are mounted in (enough without systemd).</summary>
public sealed class NoHoldStore : IHoldStore
{
    public static readonly NoHoldStore Instance = new();

    public bool Keep(string name, int fd) => false;

    public void Forget(string name)
    {
    }
}
