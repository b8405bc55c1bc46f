using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Porter.Server.Attachments;
using Porter.Server.Cni.Invocation;
using Porter.Server.Cni.Runtime;
using Porter.Server.Configuration;
using Porter.Server.Dhcp;
using Porter.Server.Hosting.Transport;
using Porter.Server.Hosting.UserSockets;
using Porter.Server.Identity;
using Porter.Server.Limits;
using Porter.Server.Namespaces;
using Porter.Server.Native;
using Porter.Server.Rpc;

namespace Porter.Server.Hosting;

/// <summary>
/// Builds and runs the daemon: an empty ASP.NET Core host (no configuration sources, no default endpoints) whose
/// only listener is the unix socket prepared by <see cref="ListenSocket"/>, speaking HTTP/2 to the gRPC dispatcher.
/// </summary>
public static class ServerHost
{
    /// <summary>The largest request message accepted (grpc-dotnet answers RESOURCE_EXHAUSTED beyond it).</summary>
    public const int MaxRequestMessageSize = 1024 * 1024;

    public static async Task<int> RunAsync(CommandLine cli, ServerSnapshot snapshot, IReadOnlyList<string> warnings, UserDatabase users)
    {
        var config = snapshot.Config;
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environments.Production,
        });
        ConfigureLogging(builder.Logging, config.Log.Level);

        using var bootLoggerFactory = LoggerFactory.Create(l => ConfigureLogging(l, config.Log.Level));
        var boot = bootLoggerFactory.CreateLogger("net-porter-server");
        foreach (var warning in warnings)
        {
            boot.LogWarning("{Warning}", warning);
        }

        // Before anything else: the descriptors systemd passed, and whether it is there to be told things.
        var passed = PassedFds.Take();
        var systemd = SystemdService.Detect();
        PrepareStateDirectory(config.StateDir);
        var listen = ListenSocket.Open(config.DomainSocket, config.SourcePath, users, boot, passed);
        var attachments = new AttachmentStore(Path.Combine(config.StateDir, "cni"));
        var holds = new NetnsHolds(config.StateDir, systemd);
        RestoreHolds(holds, attachments, passed, boot);

        var store = new ConfigStore(snapshot, cli.ConfigPath, users);
        var services = builder.Services;
        // READY=1 once started and STOPPING=1, journald's log format, SIGTERM: when running as a systemd service.
        services.AddSystemd();
        services.AddSingleton(systemd);
        services.AddSingleton(users);
        services.AddSingleton(store);
        services.AddSingleton<CallerResolver>();
        services.AddSingleton<PluginExecutor>();
        services.AddSingleton<VersionNegotiator>();
        services.AddSingleton(attachments);
        // Background work (garbage collection, lease renewal) takes the configuration current when each job begins.
        services.AddSingleton<Func<CniRuntimeOptions>>(() => CniRuntimeOptions.From(store.Current.Config));
        services.AddSingleton<DhcpDaemon>();
        services.AddSingleton<IListPreparer>(sp => sp.GetRequiredService<DhcpDaemon>());
        services.AddSingleton<IHelperProcesses>(sp => sp.GetRequiredService<DhcpDaemon>());
        services.AddHostedService<LeaseKeeper>();
        services.AddSingleton<CniRuntime>();
        services.AddSingleton<NetnsOpener>();
        services.AddSingleton(holds);
        services.AddSingleton(sp => new HostBridges(config.StateDir, sp.GetRequiredService<KeyedLocks>()));
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<AttachmentCollector>();
        services.AddHostedService<GarbageCollectionService>();
        services.AddSingleton<KeyedLocks>();
        services.AddSingleton<AttachmentReleaser>();
        services.AddSingleton<StatusEnricher>();
        services.AddSingleton<CreateCheck>();
        services.AddSingleton<AttachmentQuota>();
        services.AddSingleton<AttachmentService>();
        services.AddSingleton<LeaseStates>();
        services.AddSingleton<StatusReport>();
        services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = MaxRequestMessageSize;
            o.EnableDetailedErrors = false;
            // Outermost first: every call is logged, whatever the caller check decides.
            o.Interceptors.Add<CallLogInterceptor>();
            o.Interceptors.Add<CallerInterceptor>();
        });
        // grpc.health.v1 (Check/Watch), so monitoring and the CLI can ask whether the server is serving.
        services.AddGrpcHealthChecks().AddCheck<ListeningHealthCheck>("listening");
        services.AddSingleton(new UserLimits(() => store.Current.Config.Limits));
        services.AddSingleton<SocketHub>();
        services.AddSingleton<IConnectionListenerFactory, HubTransportFactory>();
        services.AddSingleton<UserSocketManager>();
        services.AddHostedService(sp => sp.GetRequiredService<UserSocketManager>());

        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // grpc-dotnet refuses oversized messages itself; this is only the backstop for bodies far beyond any message.
            kestrel.Limits.MaxRequestBodySize = 16 * MaxRequestMessageSize;
            kestrel.Limits.MaxRequestHeadersTotalSize = 16 * 1024;
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
            // Also how long a connection that never sends the HTTP/2 preface is kept: one plugin call per connection.
            kestrel.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(10);
            kestrel.Limits.Http2.MaxStreamsPerConnection = 16;
            // One endpoint for every socket (main and per-user): the hub feeds it.
            kestrel.Listen(new HubEndPoint(), options => options.Protocols = HttpProtocols.Http2);
        });

        var app = builder.Build();
        app.Services.GetRequiredService<SocketHub>().Add("main", listen.Socket, listen.Description);
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("net-porter-server");
        app.MapGrpcService<PorterService>();
        app.MapGrpcHealthChecksService();

        using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            systemd.Reloading();
            var (applied, messages) = store.Reload();
            foreach (var message in messages)
            {
                logger.Log(applied ? LogLevel.Warning : LogLevel.Error, "{Message}", message);
            }
            if (applied)
            {
                logger.LogInformation("configuration reloaded: {Count} resources", store.Current.Config.Resources.Length);
            }
            systemd.Reloaded(applied
                ? $"listening on {listen.Description}; configuration reloaded: {store.Current.Config.Resources.Length} resources"
                : $"listening on {listen.Description}; the last reload was refused, see the log");
        });

        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        lifetime.ApplicationStarted.Register(() =>
        {
            logger.LogInformation("net-porter-server {Version} listening on {Socket}; {Count} resources from {Config}",
                PorterService.ServerVersion, listen.Description, config.Resources.Length, config.SourcePath);
            // READY=1 itself comes from Microsoft.Extensions.Hosting.Systemd's lifetime.
            systemd.Status($"listening on {listen.Description}");
            _ = ProbeResourcesAsync(app.Services.GetRequiredService<CniRuntime>(), store, logger);
        });
        lifetime.ApplicationStopped.Register(listen.RemoveFile);

        await app.RunAsync().ConfigureAwait(false);
        return 0;
    }

    public static void ConfigureLogging(ILoggingBuilder logging, LogLevel level)
    {
        logging.ClearProviders();
        if (Environment.GetEnvironmentVariable("JOURNAL_STREAM") is { Length: > 0 })
        {
            logging.AddSystemdConsole();
        }
        else
        {
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
                o.IncludeScopes = false;
            });
        }
        logging.SetMinimumLevel(level);
        // Kestrel, hosting and grpc-dotnet chatter only when debugging (the call log says what each call did).
        logging.AddFilter("Microsoft", level <= LogLevel.Debug ? level : LogLevel.Warning);
        logging.AddFilter("Grpc", level <= LogLevel.Debug ? level : LogLevel.Warning);
        // Timings are only logged when asked for (log.timings), so they show whatever the level.
        logging.AddFilter(Diagnostics.RequestTimings.LogCategory, LogLevel.Information);
    }

    /// <summary>
    /// Mounts again the held namespaces systemd's file descriptor store handed back (under systemd the previous
    /// process's mounts died with its mount namespace), and drops those whose attachment is gone.
    /// </summary>
    private static void RestoreHolds(NetnsHolds holds, AttachmentStore attachments, IReadOnlyList<PassedFd> passed, ILogger logger)
    {
        var handedBack = passed.Where(p => p.Name.StartsWith(NetnsHolds.StoreNamePrefix, StringComparison.Ordinal)).Select(p => (p.Fd, p.Name)).ToList();
        if (handedBack.Count == 0)
        {
            return;
        }
        var recorded = new Dictionary<string, ulong?>(StringComparer.Ordinal);
        foreach (var record in attachments.List().Records)
        {
            recorded[record.Id.Name] = record.Facts.NetnsInode;
        }
        var report = holds.Restore(handedBack, recorded);
        foreach (var key in report.Restored)
        {
            logger.LogInformation("held namespace of attachment {Name} restored from systemd's file descriptor store", key);
        }
        foreach (var name in report.Dropped)
        {
            logger.LogInformation("released {Name} from systemd's file descriptor store: its attachment no longer exists", name);
        }
        foreach (var problem in report.Failed)
        {
            logger.LogError("a held namespace could not be restored from systemd's file descriptor store: {Problem}", problem);
        }
    }

    /// <summary>The state directory holds IPAM allocations and every attachment: root-only, and refused if anyone else owns it.</summary>
    private static void PrepareStateDirectory(string path)
    {
        Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (Libc.StatxCall(Libc.AT_FDCWD, path, Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_BASIC_STATS, out var st) != 0 ||
            (st.Mode & Libc.S_IFMT) != Libc.S_IFDIR)
        {
            throw new StartupException($"state_dir {path} is not a directory");
        }
        if (st.Uid != 0)
        {
            throw new StartupException($"state_dir {path} is owned by uid {st.Uid}; it must belong to root");
        }
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>Checks at start-up that every resource's plugins are installed and agree on a version, so problems show in the log early.</summary>
    private static async Task ProbeResourcesAsync(CniRuntime runtime, ConfigStore store, ILogger logger)
    {
        var snapshot = store.Current;
        foreach (var resource in snapshot.Config.Resources)
        {
            var network = snapshot.Networks[resource.Name];
            try
            {
                var version = await runtime.NegotiateVersionAsync(network, CniRuntimeOptions.From(snapshot.Config), CancellationToken.None).ConfigureAwait(false);
                logger.LogInformation("resource {Resource}: {Plugins} at CNI {Version}", resource.Name,
                    string.Join(" + ", network.Plugins.Select(p => p.IpamType is null ? p.Type : $"{p.Type}({p.IpamType})")), version);
            }
            catch (Exception e) when (e is CniException or IOException or System.ComponentModel.Win32Exception)
            {
                logger.LogWarning("resource {Resource} is not usable yet: {Error}", resource.Name, e.Message);
            }
        }
    }
}
