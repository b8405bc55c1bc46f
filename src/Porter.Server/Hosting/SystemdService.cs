using Porter.Server.Namespaces;
using Porter.Server.Native;

namespace Porter.Server.Hosting;

/// <summary>
/// What the server tells systemd beyond what Microsoft.Extensions.Hosting.Systemd sends (READY=1 once started,
/// STOPPING=1): a reload's RELOADING=1 (with MONOTONIC_USEC=, which systemd 253 and later want) and the READY=1 that
/// ends it, the status line, and the file descriptor store that keeps held namespaces across restarts (FDSTORE=1,
/// FDSTOREREMOVE=1, a FDNAME= per hold). Active only when the hosting library decided that the server runs as a
/// systemd service and $NOTIFY_SOCKET is set, so that both speak to systemd or neither does.
/// </summary>
public sealed class SystemdService(string? notifySocket) : IHoldStore
{
    /// <summary>The service manager as the hosting library sees it: none unless the server is a systemd service.</summary>
    public static SystemdService Detect() =>
        new(Microsoft.Extensions.Hosting.Systemd.SystemdHelpers.IsSystemdService() ? Environment.GetEnvironmentVariable("NOTIFY_SOCKET") : null);

    public bool IsEnabled => !string.IsNullOrEmpty(notifySocket);

    public void Reloading() => Send(ReloadingMessage(Libc.MonotonicMicroseconds()));

    /// <summary>The end of a reload (whether it applied or kept the running configuration), with the status line.</summary>
    public void Reloaded(string status) => Send($"READY=1\nSTATUS={OneLine(status)}");

    public void Status(string status) => Send($"STATUS={OneLine(status)}");

    public bool Keep(string name, int fd) =>
        // FDPOLL=0: a namespace descriptor never signals hang-up; there is nothing for systemd to watch.
        IsEnabled && SdNotify.Send(notifySocket!, $"FDSTORE=1\nFDNAME={name}\nFDPOLL=0", [fd]);

    public void Forget(string name) => Send($"FDSTOREREMOVE=1\nFDNAME={name}");

    public static string ReloadingMessage(ulong monotonicMicroseconds) =>
        $"RELOADING=1\nMONOTONIC_USEC={monotonicMicroseconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");

    private void Send(string state)
    {
        if (IsEnabled)
        {
            SdNotify.Send(notifySocket!, state);
        }
    }
}
