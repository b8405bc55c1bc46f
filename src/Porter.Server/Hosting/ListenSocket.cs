using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Porter.Server.Configuration;
using Porter.Server.Identity;
using Porter.Server.Native;

namespace Porter.Server.Hosting;

/// <summary>
/// The main listening unix socket, either passed in by systemd socket activation or bound here. Binding happens in a private directory, where owner, group and mode are set before
/// the socket is renamed into place, so no client can ever connect to it with the wrong permissions.
/// </summary>
public sealed class ListenSocket
{
    private const int SolSocket = 1;
    private const int SoType = 3;
    private const int SoAcceptConn = 30;
    private const int SoDomain = 39;
    private const int AfUnix = 1;
    private const int SockStream = 1;
    private const int FirstActivatedFd = 3;

    private ListenSocket(Socket socket, string description, string? ownedPath, ulong ownedInode)
    {
        Socket = socket;
        Description = description;
        OwnedPath = ownedPath;
        OwnedInode = ownedInode;
    }

    /// <summary>A listening AF_UNIX stream socket.</summary>
    public Socket Socket { get; }
    public string Description { get; }
    /// <summary>The socket file this process created (null under socket activation: systemd owns that file).</summary>
    public string? OwnedPath { get; }
    private ulong OwnedInode { get; }

    public static ListenSocket Open(DomainSocketConfig config, UserDatabase users, ILogger logger)
    {
        return FromSystemd(logger) ?? Bind(config, users);
    }

    /// <summary>Removes the socket file on shutdown, but only if it is still the one we created.</summary>
    public void RemoveFile()
    {
        if (OwnedPath is null)
        {
            return;
        }
        if (Libc.StatxCall(Libc.AT_FDCWD, OwnedPath, Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_BASIC_STATS, out var st) == 0 &&
            st.Ino == OwnedInode && (st.Mode & Libc.S_IFMT) == Libc.S_IFSOCK)
        {
            File.Delete(OwnedPath);
        }
    }

    /// <summary>
    /// LISTEN_PID/LISTEN_FDS per sd_listen_fds(3). When they are set but wrong, refuse: quietly binding something
    /// else (Kestrel's own UseSystemd falls back to TCP localhost:5000) is not acceptable for a root daemon.
    /// </summary>
    private static ListenSocket? FromSystemd(ILogger logger)
    {
        var fdsText = Environment.GetEnvironmentVariable("LISTEN_FDS");
        if (string.IsNullOrEmpty(fdsText))
        {
            return null;
        }
        var pidText = Environment.GetEnvironmentVariable("LISTEN_PID");
        if (pidText != Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            throw new StartupException($"LISTEN_FDS is set, but LISTEN_PID ({pidText ?? "unset"}) is not this process ({Environment.ProcessId}); refusing to guess which socket to use");
        }
        if (!int.TryParse(fdsText, out var count) || count < 1)
        {
            throw new StartupException($"LISTEN_FDS={fdsText} is not a positive number");
        }
        if (count > 1)
        {
            logger.LogWarning("systemd passed {Count} sockets; only the first (fd 3) is used", count);
        }
        foreach (var name in new[] { "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES" })
        {
            Environment.SetEnvironmentVariable(name, null);
        }
        var fd = FirstActivatedFd;
        if (GetIntOption(fd, SoDomain) != AfUnix || GetIntOption(fd, SoType) != SockStream || GetIntOption(fd, SoAcceptConn) != 1)
        {
            throw new StartupException("the socket passed by systemd (fd 3) is not a listening unix stream socket (ListenStream= with a path is required)");
        }
        return new ListenSocket(new Socket(new SafeSocketHandle(fd, ownsHandle: true)), "socket passed by systemd (fd 3)", null, 0);
    }

    private static ListenSocket Bind(DomainSocketConfig config, UserDatabase users)
    {
        var owner = users.GetUser(config.User) ?? throw new StartupException($"domain_socket.user '{config.User}' is not a known user");
        var group = users.GetGroup(config.Group) ?? throw new StartupException($"domain_socket.group '{config.Group}' is not a known group");
        var path = config.Path;
        var directory = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(directory);
        CheckExisting(path);

        // A 0700 scratch directory beside the target keeps the socket unreachable until it is ready, and on the
        // same filesystem so that rename() can move it into place atomically (replacing a stale socket).
        var scratch = Path.Combine(directory, $".np-{Guid.NewGuid():N}"[..12]);
        Directory.CreateDirectory(scratch, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var temporary = Path.Combine(scratch, "s");
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        var bound = false;
        try
        {
            try
            {
                socket.Bind(new UnixDomainSocketEndPoint(temporary));
            }
            catch (Exception e) when (e is SocketException or ArgumentException)
            {
                throw new StartupException($"cannot create a socket in {directory}: {e.Message}");
            }
            if (Libc.Lchown(temporary, owner.Uid, group.Gid) != 0 || Libc.Chmod(temporary, (uint)config.Mode) != 0)
            {
                throw new StartupException($"cannot set owner and mode of {path}: {Libc.ErrorText(Libc.LastErrno)}");
            }
            File.Move(temporary, path, overwrite: true);
            socket.Listen(512);
            if (Libc.StatxCall(Libc.AT_FDCWD, path, Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_BASIC_STATS, out var st) != 0)
            {
                throw new StartupException($"the socket {path} vanished right after it was created");
            }
            var mode = Convert.ToString(config.Mode, 8).PadLeft(4, '0');
            bound = true;
            return new ListenSocket(socket, $"{path} ({config.User}:{config.Group} {mode})", path, st.Ino);
        }
        finally
        {
            if (!bound)
            {
                socket.Dispose();
            }
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
            Directory.Delete(scratch);
        }
    }

    /// <summary>A live server on the path is an error; a stale socket may be replaced; anything else is never touched.</summary>
    private static void CheckExisting(string path)
    {
        if (Libc.StatxCall(Libc.AT_FDCWD, path, Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_BASIC_STATS, out var st) != 0)
        {
            return;
        }
        if ((st.Mode & Libc.S_IFMT) != Libc.S_IFSOCK)
        {
            throw new StartupException($"{path} exists and is {Libc.FileTypeName(st.Mode)}, not a socket; refusing to replace it");
        }
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException)
        {
            return; // stale: nobody listens
        }
        throw new StartupException($"another server is already listening on {path}");
    }

    private static unsafe int GetIntOption(int fd, int option)
    {
        int value = 0;
        uint length = sizeof(int);
        return Libc.Getsockopt(fd, SolSocket, option, (byte*)&value, ref length) == 0 ? value : -1;
    }
}

/// <summary>A reason the server cannot start, worded for the administrator.</summary>
public sealed class StartupException(string message) : Exception(message);
