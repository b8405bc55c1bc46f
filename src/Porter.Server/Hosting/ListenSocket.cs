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

    /// <summary>The name net-porter.socket gives its socket (FileDescriptorName=main).</summary>
    public const string ActivatedName = "main";

    /// <summary>The path systemd bound the activated socket to (empty when it was bound here).</summary>
    public string ActivatedPath { get; private init; } = "";

    /// <summary>
    /// The activated socket when systemd passed one (named <see cref="ActivatedName"/>, or else an unnamed listening
    /// socket, as systemd-socket-activate passes it), else one bound here as config.json's domain_socket says. An
    /// activated socket wins over config.json; where the two disagree the difference is logged as a warning at start.
    /// </summary>
    public static ListenSocket Open(DomainSocketConfig config, string configPath, UserDatabase users, ILogger logger, IReadOnlyList<PassedFd> passed)
    {
        var sockets = passed.Where(p => p.Name == ActivatedName).ToList();
        if (sockets.Count == 0)
        {
            sockets = passed.Where(p => p.Name == "unknown" && GetIntOption(p.Fd, SoAcceptConn) == 1).ToList();
        }
        if (sockets.Count == 0)
        {
            return Bind(config, users);
        }
        if (sockets.Count > 1)
        {
            logger.LogWarning("systemd passed {Count} listening sockets; only the first (fd {Fd}) is used", sockets.Count, sockets[0].Fd);
        }
        var activated = FromSystemd(sockets[0].Fd, users);
        if (Disagreement(activated, config, users) is { } difference)
        {
            logger.LogWarning("the socket systemd passed ({Activated}) differs from domain_socket in {Config} ({Configured}); the socket systemd "
                + "passed is used: make the two agree (systemctl edit net-porter.socket, or domain_socket in the file)",
                difference.Activated, configPath, difference.Configured);
        }
        return activated;
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

    /// <summary>A passed descriptor taken as the listening socket: it must be a listening unix stream socket.</summary>
    private static ListenSocket FromSystemd(int fd, UserDatabase users)
    {
        if (GetIntOption(fd, SoDomain) != AfUnix || GetIntOption(fd, SoType) != SockStream || GetIntOption(fd, SoAcceptConn) != 1)
        {
            throw new StartupException($"the socket passed by systemd (fd {fd}) is not a listening unix stream socket (ListenStream= with a path is required)");
        }
        var socket = new Socket(new SafeSocketHandle(fd, ownsHandle: true));
        var path = (socket.LocalEndPoint as UnixDomainSocketEndPoint)?.ToString() ?? "";
        var description = path.StartsWith('/') && Describe(path, users) is { } attributes
            ? $"{path} ({attributes}), passed by systemd"
            : $"socket passed by systemd (fd {fd})";
        return new ListenSocket(socket, description, null, 0) { ActivatedPath = path };
    }

    /// <summary>What differs between the activated socket and domain_socket (path, owner, group, mode), or null.</summary>
    private static (string Activated, string Configured)? Disagreement(ListenSocket activated, DomainSocketConfig config, UserDatabase users)
    {
        var configured = $"{config.Path} {config.User}:{config.Group} {Convert.ToString(config.Mode, 8).PadLeft(4, '0')}";
        if (!activated.ActivatedPath.StartsWith('/'))
        {
            return ("an abstract or unnamed socket", configured);
        }
        var actual = $"{activated.ActivatedPath} {Describe(activated.ActivatedPath, users) ?? "(not found)"}";
        return actual == configured ? null : (actual, configured);
    }

    /// <summary>"user:group mode" of a socket file, by name where the user database has one.</summary>
    private static string? Describe(string path, UserDatabase users)
    {
        if (Libc.StatxCall(Libc.AT_FDCWD, path, Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_BASIC_STATS, out var st) != 0)
        {
            return null;
        }
        var user = users.GetUser(st.Uid)?.Name ?? st.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var group = users.GetGroup(st.Gid)?.Name ?? st.Gid.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return $"{user}:{group} {Convert.ToString(st.Mode & 0xFFF, 8).PadLeft(4, '0')}";
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
