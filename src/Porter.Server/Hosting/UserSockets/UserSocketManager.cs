using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Porter.Server.Authorization;
using Porter.Server.Configuration;
using Porter.Server.Hosting.Transport;
using Porter.Server.Identity;

namespace Porter.Server.Hosting.UserSockets;

/// <summary>
/// Keeps one socket in RUNTIME_DIR/UID for every user who is granted some resource (directly or through a group)
/// and has a runtime directory, and none for anyone else. It re-checks when a runtime directory appears or
/// disappears, when the configuration is reloaded, and every few seconds (group memberships change without notice).
/// All sockets are served by the same server process through the <see cref="SocketHub"/>.
/// </summary>
public sealed class UserSocketManager(
    ConfigStore store,
    CallerResolver callers,
    SocketHub hub,
    ILogger<UserSocketManager> logger) : BackgroundService
{
    public static readonly TimeSpan RescanInterval = TimeSpan.FromSeconds(3);

    private readonly Dictionary<uint, (string RuntimeDir, ulong Inode)> _sockets = [];
    private readonly Dictionary<uint, string> _problems = [];
    private readonly SemaphoreSlim _wake = new(0);
    private FileSystemWatcher? _watcher;
    private string? _watched;

    public void Wake()
    {
        if (_wake.CurrentCount == 0)
        {
            _wake.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        store.Changed += Wake;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await ReconcileAsync().ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    logger.LogError("per-user sockets: {Error}", e.Message);
                }
                try
                {
                    await _wake.WaitAsync(RescanInterval, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        finally
        {
            store.Changed -= Wake;
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        _watcher?.Dispose();
        foreach (var uid in _sockets.Keys.ToList())
        {
            await RemoveAsync(uid, "the server is stopping").ConfigureAwait(false);
        }
    }

    private async Task ReconcileAsync()
    {
        var config = store.Current.Config;
        var runtimeDir = config.UserSockets.RuntimeDir;
        Watch(config.UserSockets.Enabled ? runtimeDir : null);

        var wanted = new Dictionary<uint, CallerIdentity>();
        if (config.UserSockets.Enabled && Directory.Exists(runtimeDir))
        {
            foreach (var dir in Directory.EnumerateDirectories(runtimeDir))
            {
                if (!uint.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var uid))
                {
                    continue;
                }
                var identity = callers.ResolveUid(uid);
                if (AccessPolicy.GrantedResources(config, identity).Any())
                {
                    wanted[uid] = identity;
                }
            }
        }

        foreach (var uid in _sockets.Keys.Where(u => !wanted.ContainsKey(u) || _sockets[u].RuntimeDir != runtimeDir).ToList())
        {
            await RemoveAsync(uid, wanted.ContainsKey(uid) ? "the runtime directory setting changed" : "no longer granted, or no runtime directory").ConfigureAwait(false);
        }
        foreach (var (uid, identity) in wanted)
        {
            if (_sockets.TryGetValue(uid, out var existing))
            {
                if (UserSocketFile.IsIntact(existing.RuntimeDir, uid, existing.Inode))
                {
                    continue;
                }
                await RemoveAsync(uid, "its socket file was removed or replaced").ConfigureAwait(false);
            }
            Create(uid, identity, runtimeDir);
        }
        foreach (var uid in _problems.Keys.Where(u => !wanted.ContainsKey(u)).ToList())
        {
            _problems.Remove(uid);
        }
    }

    private void Create(uint uid, CallerIdentity identity, string runtimeDir)
    {
        try
        {
            var (socket, inode) = UserSocketFile.Create(runtimeDir, uid, identity.Gid);
            var path = Path.Combine(runtimeDir, uid.ToString(CultureInfo.InvariantCulture), UserSocketsConfig.SocketName);
            hub.Add(Name(uid), socket, path);
            _sockets[uid] = (runtimeDir, inode);
            _problems.Remove(uid);
            logger.LogInformation("per-user socket for {User}: {Path}", identity.Describe(), path);
        }
        catch (UserSocketException e)
        {
            if (_problems.GetValueOrDefault(uid) != e.Message)
            {
                logger.LogWarning("no per-user socket for {User}: {Problem}", identity.Describe(), e.Message);
                _problems[uid] = e.Message;
            }
        }
    }

    private async Task RemoveAsync(uint uid, string why)
    {
        if (!_sockets.Remove(uid, out var socket))
        {
            return;
        }
        await hub.RemoveAsync(Name(uid)).ConfigureAwait(false);
        UserSocketFile.Remove(socket.RuntimeDir, uid, socket.Inode);
        logger.LogInformation("per-user socket for uid {Uid} removed: {Why}", uid, why);
    }

    /// <summary>Follows the runtime directory so that a login or logout is noticed at once, not at the next rescan.</summary>
    private void Watch(string? runtimeDir)
    {
        if (runtimeDir == _watched && (_watcher is not null || runtimeDir is null))
        {
            return;
        }
        _watcher?.Dispose();
        _watcher = null;
        _watched = runtimeDir;
        if (runtimeDir is null || !Directory.Exists(runtimeDir))
        {
            return;
        }
        _watcher = new FileSystemWatcher(runtimeDir)
        {
            NotifyFilter = NotifyFilters.DirectoryName,
            IncludeSubdirectories = false,
        };
        _watcher.Created += (_, _) => Wake();
        _watcher.Deleted += (_, _) => Wake();
        _watcher.Renamed += (_, _) => Wake();
        _watcher.EnableRaisingEvents = true;
    }

    private static string Name(uint uid) => $"user:{uid.ToString(CultureInfo.InvariantCulture)}";
}
