using System.Diagnostics;
using System.Text;

namespace Porter.Testbed;

/// <summary>
/// A real DHCP server (and IPv6 router advertiser) on the scratch LAN: dnsmasq in the LAN namespace, bound to one
/// interface, its log collected so tests can see offers, renewals and releases.
/// </summary>
public sealed class DnsmasqServer : IDisposable
{
    public const string RangeStart = "192.168.77.150";
    public const string RangeEnd = "192.168.77.180";
    public const string DnsServer = "192.168.77.53";
    public const string Domain = "lan.test";
    /// <summary>Renewal time (DHCP option 58) handed out, so that renewals can be watched within a test.</summary>
    public const int RenewSeconds = 10;

    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private DnsmasqServer(Process process, string leaseFile)
    {
        _process = process;
        LeaseFile = leaseFile;
    }

    public string LeaseFile { get; }

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public static DnsmasqServer Start(ScratchLan lan, string workDir)
    {
        var leaseFile = Path.Combine(workDir, "dnsmasq.leases");
        var startInfo = new ProcessStartInfo("ip")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] args =
        [
            "netns", "exec", lan.LanNs, "dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--port=0",
            $"--interface={ScratchLan.LanInterface}", "--bind-interfaces", "--log-dhcp", "--log-facility=-",
            $"--dhcp-range={RangeStart},{RangeEnd},255.255.255.0,2m",
            $"--dhcp-option=option:router,{ScratchLan.Gateway}",
            $"--dhcp-option=option:dns-server,{DnsServer}",
            $"--dhcp-option=option:domain-name,{Domain}",
            $"--dhcp-option=option:T1,{RenewSeconds}",
            $"--dhcp-option=option:T2,{RenewSeconds + 5}",
            "--enable-ra", "--dhcp-range=fd77:77::,ra-only,64", "--ra-param=*,5",
            $"--dhcp-leasefile={leaseFile}", $"--pid-file={Path.Combine(workDir, "dnsmasq.pid")}",
        ];
        foreach (var arg in args)
        {
            startInfo.ArgumentList.Add(arg);
        }
        var process = Process.Start(startInfo) ?? throw new TestbedException("cannot start dnsmasq");
        var server = new DnsmasqServer(process, leaseFile);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        Wait.Until(() => server.Log.Contains("DHCP, sockets bound exclusively", StringComparison.Ordinal) || process.HasExited,
            TimeSpan.FromSeconds(10), "dnsmasq to start", () => server.Log);
        if (process.HasExited)
        {
            throw new TestbedException($"dnsmasq exited: {server.Log}");
        }
        return server;
    }

    /// <summary>How many DHCPACKs went to a MAC (the first one, then one per renewal).</summary>
    public int Acks(string mac) => Lines().Count(l => l.Contains("DHCPACK", StringComparison.Ordinal) && l.Contains(mac, StringComparison.OrdinalIgnoreCase));

    public IEnumerable<string> Lines() => Log.Split('\n');

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_log)
            {
                _log.AppendLine(line);
            }
        }
    }
}
