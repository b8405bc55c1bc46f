using System.Text.Json;
using Porter.Server.Native;

namespace Porter.Server.Cni.Runtime;

/// <summary>A record file that could not be read, and why.</summary>
public sealed record UnreadableRecord(string Path, string Problem);

/// <summary>
/// The runtime's memory of attachments, kept private to it as libcni keeps its cache: one file per attachment,
/// &lt;dir&gt;/results/&lt;network&gt;-&lt;containerId&gt;-&lt;ifName&gt; in libcni's cniCacheV1 layout (so standard tools
/// can read it; <see cref="CacheFile"/>), 0600 in 0700 directories, replaced atomically (write, fsync, rename, fsync
/// directory) so a crash leaves the old or the new record, never half of one. Only the runtime writes records;
/// everyone else reads, lists and asks for the few changes below through this class.
/// </summary>
public sealed class AttachmentStore
{
    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public AttachmentStore(string directory)
    {
        ResultsDirectory = Path.Combine(directory, "results");
    }

    public string ResultsDirectory { get; }

    public string PathFor(RecordId id) => Path.Combine(ResultsDirectory, id.Name);

    /// <summary>Writes (or replaces) a record. Only the runtime does this, as ADD progresses.</summary>
    internal void Write(AttachmentRecord record)
    {
        Directory.CreateDirectory(ResultsDirectory, DirectoryMode);
        var path = PathFor(record.Id);
        var temp = $"{path}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
        var bytes = CacheFile.Serialize(record);
        try
        {
            using (var stream = new FileStream(temp, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            }))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
        SyncDirectory(ResultsDirectory);
    }

    /// <summary>The record, or null when there is none; an unreadable one throws <see cref="FormatException"/>.</summary>
    public AttachmentRecord? Read(RecordId id)
    {
        var path = PathFor(id);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        return CacheFile.Deserialize(bytes, path);
    }

    /// <summary>
    /// The record as it is now, or null when there is none; an unreadable one is moved aside (it must block nothing)
    /// and what was wrong with it is returned in <paramref name="unreadable"/>.
    /// </summary>
    public AttachmentRecord? ReadOrSetAside(RecordId id, out string? unreadable)
    {
        unreadable = null;
        try
        {
            return Read(id);
        }
        catch (FormatException e)
        {
            SetAside(PathFor(id));
            unreadable = e.Message;
            return null;
        }
    }

    /// <summary>Forgets an attachment (after its DEL, or when nothing about it can be run any more).</summary>
    public void Delete(RecordId id)
    {
        if (!Directory.Exists(ResultsDirectory))
        {
            return;
        }
        File.Delete(PathFor(id));
        SyncDirectory(ResultsDirectory);
    }

    /// <summary>Moves an unreadable record aside (kept for inspection) so that it blocks nothing; false if it is already gone.</summary>
    public bool SetAside(UnreadableRecord record) => SetAside(record.Path);

    private static bool SetAside(string path)
    {
        var target = $"{path}.corrupt-{DateTime.UtcNow:yyyyMMddHHmmss}";
        try
        {
            File.Move(path, target, overwrite: true);
            return true;
        }
        catch (FileNotFoundException)
        {
            return false;
        }
    }

    /// <summary>
    /// Every readable record, with the files that could not be read reported separately. A record removed while the
    /// directory is read (a teardown finished) is simply not listed. Records are a snapshot: whoever acts on one reads
    /// it again under the attachment's lock.
    /// </summary>
    public (IReadOnlyList<AttachmentRecord> Records, IReadOnlyList<UnreadableRecord> Unreadable) List()
    {
        var records = new List<AttachmentRecord>();
        var unreadable = new List<UnreadableRecord>();
        if (!Directory.Exists(ResultsDirectory))
        {
            return (records, unreadable);
        }
        foreach (var file in Directory.EnumerateFiles(ResultsDirectory).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(file);
            if (name.Contains(".tmp-", StringComparison.Ordinal) || name.Contains(".corrupt-", StringComparison.Ordinal))
            {
                continue;
            }
            try
            {
                records.Add(CacheFile.Deserialize(File.ReadAllBytes(file), file));
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                // gone since the directory was read
            }
            catch (Exception e) when (e is IOException or FormatException or JsonException)
            {
                unreadable.Add(new UnreadableRecord(file, e.Message));
            }
        }
        return (records, unreadable);
    }

    private static void SyncDirectory(string directory)
    {
        var fd = Libc.Open(directory, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
        if (fd < 0)
        {
            return;
        }
        Libc.Fsync(fd);
        Libc.Close(fd);
    }
}
