using System.Text.Json;
using Porter.Server.Diagnostics;
using Porter.Server.Native;

namespace Porter.Server.Cni.Runtime;

/// <summary>A record file that could not be read, and why.</summary>
public sealed record UnreadableRecord(string Path, string Problem);

/// <summary>How far a record write must survive a crash of the whole machine (a crash of the server alone loses
/// nothing that reached the page cache, so this is only about power loss and kernel crashes).</summary>
internal enum Durability
{
    /// <summary>
    /// On disk, name included, before the write returns: the file is fsynced before its rename and the directory after
    /// it. For the first record of a setup, written before any plugin runs: a plugin may leave state that outlives a
    /// reboot (host-local's allocation files), and only a record can release it (records from before the last boot
    /// are released at start).
    /// </summary>
    Durable,

    /// <summary>
    /// The file is fsynced before its rename, the directory is not: after a machine crash the name holds either this
    /// record or the one it replaced (the durable one before it), never an empty or half-written file (a rename
    /// over a file whose data is not yet on disk can leave exactly that on filesystems that do not order them).
    /// For every later write of a setup: the durable first record already releases everything after a reboot.
    /// </summary>
    Replace,
}

/// <summary>
/// The runtime's memory of attachments, kept private to it as libcni keeps its cache: one file per attachment,
/// &lt;dir&gt;/results/&lt;network&gt;-&lt;containerId&gt;-&lt;ifName&gt; in libcni's cniCacheV1 layout (so standard tools
/// can read it; <see cref="CacheFile"/>), 0600 in 0700 directories, replaced atomically (write, fsync, rename) so a
/// crash leaves the old or the new record, never half of one; how much of that reaches the disk before a write
/// returns is the writer's <see cref="Durability"/>. Only the runtime writes records; everyone else reads, lists and
/// asks for the few changes below through this class. It keeps an index of whose record is which (built from the
/// directory on first use, then kept by the writes here), so that counting a user's attachments reads no file.
/// </summary>
public sealed class AttachmentStore
{
    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    // Record name -> its owner's uid (null: a record without one). Null until first needed; updated after every file
    // change, under the same lock the building takes, so a change racing the build is applied after it.
    private readonly Lock _indexLock = new();
    private Dictionary<string, uint?>? _owners;

    public AttachmentStore(string directory)
    {
        ResultsDirectory = Path.Combine(directory, "results");
    }

    public string ResultsDirectory { get; }

    public string PathFor(RecordId id) => Path.Combine(ResultsDirectory, id.Name);

    /// <summary>Writes (or replaces) a record. Only the runtime does this, as ADD progresses.</summary>
    internal void Write(AttachmentRecord record, Durability durability = Durability.Durable)
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
                RequestTimings.Lap("record write");
                stream.Flush(flushToDisk: true);
                RequestTimings.Lap("record fsync");
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
        RequestTimings.Lap("record rename");
        if (durability == Durability.Durable)
        {
            SyncDirectory(ResultsDirectory);
            RequestTimings.Lap("record directory fsync");
        }
        Indexed(record.Id.Name, record.Facts.Uid);
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

    /// <summary>
    /// Forgets an attachment (after its DEL, or when nothing about it can be run any more). Not synced to disk: a
    /// record that comes back after a machine crash is from before the boot and is released again at start, which
    /// finds nothing left to release (IPAM plugins release by container id and interface, the namespace died with
    /// the boot), and a later setup of the same attachment replaces it with a durable record of its own.
    /// </summary>
    public void Delete(RecordId id)
    {
        try
        {
            File.Delete(PathFor(id));
        }
        catch (DirectoryNotFoundException)
        {
        }
        RequestTimings.Lap("record delete");
        Indexed(id.Name, uid: null, remove: true);
    }

    /// <summary>Moves an unreadable record aside (kept for inspection) so that it blocks nothing; false if it is already gone.</summary>
    public bool SetAside(UnreadableRecord record) => SetAside(record.Path);

    private bool SetAside(string path)
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
        finally
        {
            Indexed(Path.GetFileName(path), uid: null, remove: true);
        }
    }

    /// <summary>
    /// The names of <paramref name="uid"/>'s records (complete or not), from the index: no file is read once the index
    /// is built. Unreadable records count for no one, as in <see cref="List"/>.
    /// </summary>
    public HashSet<string> NamesOf(uint uid)
    {
        lock (_indexLock)
        {
            if (_owners is null)
            {
                _owners = new Dictionary<string, uint?>(StringComparer.Ordinal);
                foreach (var record in List().Records)
                {
                    _owners[record.Id.Name] = record.Facts.Uid;
                }
            }
            return _owners.Where(kv => kv.Value == uid).Select(kv => kv.Key).ToHashSet(StringComparer.Ordinal);
        }
    }

    private void Indexed(string name, uint? uid, bool remove = false)
    {
        lock (_indexLock)
        {
            if (_owners is null)
            {
                return;
            }
            if (remove)
            {
                _owners.Remove(name);
            }
            else
            {
                _owners[name] = uid;
            }
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
