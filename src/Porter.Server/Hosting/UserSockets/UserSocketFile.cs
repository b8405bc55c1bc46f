using System.Net.Sockets;
using Porter.Server.Configuration;
using Porter.Server.Native;

namespace Porter.Server.Hosting.UserSockets;

/// <summary>Why a user's socket could not be made; logged once per change, retried on every pass.</summary>
public sealed class UserSocketException(string message) : Exception(message);

/// <summary>
/// Creates and removes RUNTIME_DIR/UID/net-porter.sock. The directory belongs to the user, who could swap entries
/// in it at any moment, so nothing here uses a path through it: the directory is opened once (no symlinks) and every
/// step goes through that descriptor (/proc/self/fd/N/..., *at calls). The socket is made by root with the process
/// umask (so no one but root can connect), then handed to the user and set to 0600 before listen().
/// </summary>
public static class UserSocketFile
{
    public static (Socket Listening, ulong Inode) Create(string runtimeDir, uint uid, uint gid)
    {
        using var dir = OpenUserDir(runtimeDir, uid);
        var name = UserSocketsConfig.SocketName;
        var viaDir = $"/proc/self/fd/{dir.Fd}/{name}";

        if (Libc.StatxCall(dir.Fd, name, Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_BASIC_STATS, out var existing) == 0)
        {
            if ((existing.Mode & Libc.S_IFMT) != Libc.S_IFSOCK)
            {
                throw new UserSocketException($"{Path.Combine(runtimeDir, uid.ToString(), name)} exists and is {Libc.FileTypeName(existing.Mode)}; leaving it alone");
            }
            if (IsListening(viaDir))
            {
                throw new UserSocketException($"{Path.Combine(runtimeDir, uid.ToString(), name)} is in use by another process");
            }
            Libc.Unlinkat(dir.Fd, name, 0); // stale, from a crash
        }

        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(viaDir));
            var file = Libc.Openat(dir.Fd, name, Libc.O_PATH | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0);
            if (file < 0)
            {
                throw new UserSocketException($"the new socket vanished: {Libc.ErrorText(Libc.LastErrno)}");
            }
            try
            {
                if (Libc.StatxCall(file, "", Libc.AT_EMPTY_PATH, Libc.STATX_BASIC_STATS, out var st) != 0 || (st.Mode & Libc.S_IFMT) != Libc.S_IFSOCK)
                {
                    throw new UserSocketException("the entry at the socket's name was replaced before it could be secured");
                }
                // The mode first, while the file is still root's: changing the mode of someone else's file would take
                // CAP_FOWNER, which the hardened unit does not keep.
                if (Libc.Chmod($"/proc/self/fd/{file}", Convert.ToUInt32("600", 8)) != 0 || Libc.Fchownat(file, "", uid, gid, Libc.AT_EMPTY_PATH) != 0)
                {
                    throw new UserSocketException($"cannot hand the socket to uid {uid}: {Libc.ErrorText(Libc.LastErrno)}");
                }
                socket.Listen(128);
                return (socket, st.Ino);
            }
            finally
            {
                Libc.Close(file);
            }
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new UserSocketException($"cannot create the socket: {e.Message}");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>True while the file at the user's socket name is still the one created here.</summary>
    public static bool IsIntact(string runtimeDir, uint uid, ulong inode)
    {
        try
        {
            using var dir = OpenUserDir(runtimeDir, uid);
            return Libc.StatxCall(dir.Fd, UserSocketsConfig.SocketName, Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_BASIC_STATS, out var st) == 0
                && st.Ino == inode && (st.Mode & Libc.S_IFMT) == Libc.S_IFSOCK;
        }
        catch (UserSocketException)
        {
            return false;
        }
    }

    /// <summary>Removes the socket file if it is still ours; anything the user put in its place stays.</summary>
    public static void Remove(string runtimeDir, uint uid, ulong inode)
    {
        try
        {
            using var dir = OpenUserDir(runtimeDir, uid, checkOwner: false);
            if (Libc.StatxCall(dir.Fd, UserSocketsConfig.SocketName, Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_BASIC_STATS, out var st) == 0 &&
                st.Ino == inode && (st.Mode & Libc.S_IFMT) == Libc.S_IFSOCK)
            {
                Libc.Unlinkat(dir.Fd, UserSocketsConfig.SocketName, 0);
            }
        }
        catch (UserSocketException)
        {
            // the directory is gone, and the socket with it
        }
    }

    private static DirHandle OpenUserDir(string runtimeDir, uint uid, bool checkOwner = true)
    {
        var path = Path.Combine(runtimeDir, uid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var fd = Libc.Open(path, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0);
        if (fd < 0)
        {
            throw new UserSocketException($"cannot open {path}: {Libc.ErrorText(Libc.LastErrno)}");
        }
        var handle = new DirHandle(fd);
        if (!checkOwner)
        {
            return handle;
        }
        if (Libc.StatxCall(fd, "", Libc.AT_EMPTY_PATH, Libc.STATX_BASIC_STATS, out var st) != 0)
        {
            handle.Dispose();
            throw new UserSocketException($"cannot stat {path}");
        }
        if (st.Uid != uid)
        {
            handle.Dispose();
            throw new UserSocketException($"{path} belongs to uid {st.Uid}, not to uid {uid}; no socket is made there");
        }
        if ((st.Mode & Convert.ToUInt32("022", 8)) != 0)
        {
            handle.Dispose();
            throw new UserSocketException($"{path} is writable by others; no socket is made there");
        }
        return handle;
    }

    private static bool IsListening(string path)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private sealed class DirHandle(int fd) : IDisposable
    {
        public int Fd { get; } = fd;

        public void Dispose() => Libc.Close(Fd);
    }
}
