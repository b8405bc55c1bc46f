using System.Globalization;
using System.Text.Json.Nodes;
using Porter.Testbed;
using Xunit;

namespace Porter.SystemdTests;

/// <summary>
/// The installed .deb under a real systemd (PID 1 of a booted Debian 13): the socket, activation, readiness, per-user
/// sockets, attachments through the installed plugin, reloads, restarts, a crash mid-setup and DHCP renewal.
/// </summary>
[Collection(InstalledCollection.Name)]
public sealed class ServiceTests(InstalledSystem installed)
{
    private const string Service = "net-porter.service";

    [Fact]
    public void Installing_creates_the_group_and_state_directory_enables_both_units_and_the_socket_listens_as_root_net_porter_0660()
    {
        var system = installed.System;
        Assert.Contains("Setting up net-porter", installed.InstallLog);
        Assert.StartsWith("net-porter:x:", system.Check("getent", "group", "net-porter"));
        Assert.Equal("directory root root 700", system.Check("stat", "-c", "%F %U %G %a", "/var/lib/net-porter").Trim());
        Assert.Equal("enabled\nenabled", system.Check("systemctl", "is-enabled", "net-porter.socket", Service).Trim());
        Assert.Equal("active", system.Property("net-porter.socket", "ActiveState"));
        Assert.Equal("socket root net-porter 660", system.Check("stat", "-c", "%F %U %G %a", InstalledSystem.Socket).Trim());
        Assert.Equal($"{InstalledSystem.Socket} (Stream)", system.Property("net-porter.socket", "Listen"));
        // The packaged config.json and the socket unit agree: no warning about the activated socket.
        Assert.DoesNotContain("differs from domain_socket", system.Journal(Service));
    }

    [Fact]
    public void The_first_client_activates_the_service_which_reaches_active_through_its_READY_notification()
    {
        var system = installed.System;
        system.Check("systemctl", "stop", Service);
        Assert.Equal("inactive", system.Property(Service, "ActiveState"));
        Assert.Equal("active", system.Property("net-porter.socket", "ActiveState"));
        var cursor = system.Cursor();

        // The first client: net-porter status through the main socket, as root.
        var status = system.Run(InstalledSystem.Plugin, "status", "--socket", InstalledSystem.Socket);

        Assert.True(status.ExitCode == 0, $"{status}\n{system.Journal(Service, cursor)}");
        Assert.Contains("Per user:", status.Stdout);
        Assert.Equal("notify", system.Property(Service, "Type"));
        // Type=notify: the unit is "active" only once the server said READY=1 (until then it is "activating").
        Assert.Equal("active running", $"{system.Property(Service, "ActiveState")} {system.Property(Service, "SubState")}");
        Assert.Equal($"listening on {InstalledSystem.Socket} (root:net-porter 0660), passed by systemd", system.Property(Service, "StatusText"));
        var journal = system.Journal(Service, cursor);
        Assert.Contains("Started net-porter.service", journal);
        Assert.Contains($"listening on {InstalledSystem.Socket} (root:net-porter 0660), passed by systemd", journal);
        installed.WaitForUserSocket(InstalledSystem.Alice);
    }

    [Fact]
    public void A_granted_user_with_a_running_user_manager_gets_a_socket_of_their_own_and_others_do_not()
    {
        var system = installed.System;
        system.Check("loginctl", "enable-linger", InstalledSystem.Dave);
        system.Check("loginctl", "enable-linger", InstalledSystem.Carol);
        try
        {
            Wait.Until(() => system.Property($"user@{installed.Uid(InstalledSystem.Dave)}.service", "ActiveState") == "active",
                TimeSpan.FromSeconds(30), "dave's user manager");
            installed.WaitForUserSocket(InstalledSystem.Dave);
            Assert.Equal("socket dave dave 600", system.Check("stat", "-c", "%F %U %G %a", installed.UserSocket(InstalledSystem.Dave)).Trim());

            // dave's own socket serves dave (granted through his group), from his own runtime directory.
            var attach = installed.System.As(InstalledSystem.Dave, $"unshare -rn sh -c 'ip link set lo up; {InstalledSystem.Plugin} attach --resource {InstalledSystem.HostLocal} --pid $$ && {InstalledSystem.Plugin} detach --resource {InstalledSystem.HostLocal} --pid $$'");
            Assert.True(attach.ExitCode == 0, attach.ToString());
            Assert.Contains("192.168.77.", attach.Stdout);

            // carol lingers too, so she has a runtime directory, but is granted nothing: no socket.
            Wait.Until(() => system.Run("test", "-d", $"/run/user/{installed.Uid(InstalledSystem.Carol)}").ExitCode == 0, TimeSpan.FromSeconds(30), "carol's runtime directory");
            Thread.Sleep(TimeSpan.FromSeconds(4)); // longer than the server's rescan interval (3 s)
            Assert.NotEqual(0, system.Run("test", "-e", installed.UserSocket(InstalledSystem.Carol)).ExitCode);
        }
        finally
        {
            system.Run("loginctl", "disable-linger", InstalledSystem.Dave);
            system.Run("loginctl", "disable-linger", InstalledSystem.Carol);
        }
        // The user manager stops, logind removes the runtime directory, and the socket goes with it.
        Wait.Until(() => system.Run("test", "-e", $"/run/user/{installed.Uid(InstalledSystem.Dave)}").ExitCode != 0, TimeSpan.FromSeconds(30), "dave's runtime directory to go");
    }

    [Fact]
    public void A_rootless_container_is_attached_and_detached_through_the_installed_plugin()
    {
        using var container = RootlessContainer.Start(installed.System, InstalledSystem.Alice);
        var exec = NetavarkJson.Exec(NetavarkJson.Network("lan", InstalledSystem.HostLocal, null), container.ContainerId, "web");

        var setup = container.Plugin("setup", exec);

        Assert.True(setup.ExitCode == 0, $"{setup}\n{installed.System.Journal(Service)}");
        var address = AddressOf(setup.Stdout);
        Assert.StartsWith("192.168.77.1", address);
        Assert.Contains($"inet {address}/24", container.InNetns("ip", "-o", "-4", "addr", "show", "eth0").Stdout);
        // The container is on the LAN: the LAN's gateway reaches it.
        var ping = installed.System.Lan.InLan("ping", "-c", "1", "-W", "3", address);
        Assert.True(ping.ExitCode == 0, ping.ToString());

        var teardown = container.Plugin("teardown", exec);

        Assert.True(teardown.ExitCode == 0, teardown.ToString());
        Assert.NotEqual(0, container.InNetns("ip", "link", "show", "eth0").ExitCode);
        Assert.DoesNotContain(installed.Attachments(InstalledSystem.Alice), a => ((string)a["container_id"]!).Contains(container.ContainerId, StringComparison.Ordinal));
    }

    [Fact]
    public void Reload_applies_a_good_configuration_and_keeps_a_broken_one_out()
    {
        var system = installed.System;
        var netnsProcess = installed.StartNetnsProcess(InstalledSystem.Carol);
        var attach = $"{InstalledSystem.Plugin} attach --resource {InstalledSystem.HostLocal} --pid {netnsProcess} && {InstalledSystem.Plugin} detach --resource {InstalledSystem.HostLocal} --pid {netnsProcess}";
        try
        {
            system.Check("loginctl", "enable-linger", InstalledSystem.Carol);
            var refused = system.As(InstalledSystem.Carol, attach);
            Assert.NotEqual(0, refused.ExitCode);

            // A good configuration grants carol macvlan-hl: the reload applies it and says so to systemd.
            installed.WriteConfig(InstalledSystem.StandardResources.Replace("\"allow_users\": [\"alice\", \"root\"]", "\"allow_users\": [\"alice\", \"root\", \"carol\"]", StringComparison.Ordinal));
            var applied = installed.Reload("configuration reloaded: 3 resources");
            Assert.Contains("Reloading net-porter.service", applied);
            Assert.Equal("success", system.Property(Service, "ReloadResult"));
            installed.WaitForUserSocket(InstalledSystem.Carol);
            var granted = system.As(InstalledSystem.Carol, attach);
            Assert.True(granted.ExitCode == 0, $"{granted}\n{system.Journal(Service)}");

            // A broken one is refused as a whole; carol keeps her grant and the unit stays active.
            system.CheckSh($"sed -i 's/\"resources\"/\"resources\" oops/' {InstalledSystem.Config}");
            var kept = installed.Reload("configuration not reloaded");
            Assert.Contains($"configuration not reloaded: {InstalledSystem.Config}:", kept);
            Assert.Contains("the last reload was refused", system.Property(Service, "StatusText"));
            Assert.Equal("active running", $"{system.Property(Service, "ActiveState")} {system.Property(Service, "SubState")}");
            var still = system.As(InstalledSystem.Carol, attach);
            Assert.True(still.ExitCode == 0, $"{still}\n{system.Journal(Service)}");
        }
        finally
        {
            system.Run("kill", netnsProcess.ToString(CultureInfo.InvariantCulture));
            system.Run("loginctl", "disable-linger", InstalledSystem.Carol);
            installed.WriteConfig(InstalledSystem.StandardResources);
            installed.Reload("configuration reloaded: 3 resources");
        }
    }

    [Fact]
    public void A_restart_with_an_attachment_in_place_keeps_its_held_namespace_and_teardown_afterwards_releases_it()
    {
        var system = installed.System;
        using var container = RootlessContainer.Start(system, InstalledSystem.Alice);
        var exec = NetavarkJson.Exec(NetavarkJson.Network("lan", InstalledSystem.HostLocal, null), container.ContainerId, "restart");
        var setup = container.Plugin("setup", exec);
        Assert.True(setup.ExitCode == 0, setup.ToString());
        var address = AddressOf(setup.Stdout);
        Assert.Equal("1", system.Property(Service, "NFileDescriptorStore"));
        var before = system.Property(Service, "MainPID");
        var cursor = system.Cursor();

        system.Check("systemctl", "restart", Service);

        Assert.NotEqual(before, system.Property(Service, "MainPID"));
        var journal = system.WaitForJournal(Service, "restored from systemd's file descriptor store", cursor, TimeSpan.FromSeconds(20));
        Assert.Contains($"held namespace of attachment {InstalledSystem.HostLocal}-{installed.Uid(InstalledSystem.Alice)}-{container.ContainerId}-eth0 restored", journal);
        var attachment = Assert.Single(installed.Attachments(InstalledSystem.Alice), a => ((string)a["container_id"]!).Contains(container.ContainerId, StringComparison.Ordinal));
        Assert.True((bool)attachment["held"]!, attachment.ToJsonString());

        var teardown = container.Plugin("teardown", exec);

        Assert.True(teardown.ExitCode == 0, teardown.ToString());
        Assert.NotEqual(0, container.InNetns("ip", "link", "show", "eth0").ExitCode);
        Assert.Equal("0", system.Property(Service, "NFileDescriptorStore"));
        Assert.NotEqual(0, system.Run("sh", "-c", $"grep -rl {container.ContainerId} /var/lib/net-porter").ExitCode);
        Assert.NotEqual(0, system.Run("test", "-e", $"/var/lib/net-porter/host-local/{InstalledSystem.HostLocal}/{address}").ExitCode);
    }

    [Fact]
    public async Task A_server_killed_mid_setup_in_its_own_mount_namespace_leaves_nothing_half_made_after_its_restart()
    {
        var system = installed.System;
        var mainPid = system.Property(Service, "MainPID");
        // The precondition the file descriptor store is for: the hardened unit runs the server in a mount namespace of
        // its own, so the bind mounts that hold namespaces die with the process.
        Assert.NotEqual(system.Check("readlink", "/proc/1/ns/mnt").Trim(), system.Check("readlink", $"/proc/{mainPid}/ns/mnt").Trim());
        var target = installed.StartNetnsProcess(InstalledSystem.Alice);
        try
        {
            var cursor = system.Cursor();
            var attach = Task.Run(() => system.As(InstalledSystem.Alice, $"{InstalledSystem.Plugin} attach --resource {InstalledSystem.Slow} --pid {target}", timeout: TimeSpan.FromMinutes(3)));
            // Half made: the macvlan and its address are in the namespace, the chained plugin is still running.
            Wait.Until(() => system.Run("pgrep", "-f", "/usr/lib/cni/np-slow").ExitCode == 0 || system.Run("pgrep", "-x", "np-slow").ExitCode == 0,
                TimeSpan.FromSeconds(30), "the slow plugin to run", () => system.Journal(Service, cursor));
            Assert.Contains("192.168.77.12", installed.InNetnsOf(target, "ip", "-o", "-4", "addr", "show", "eth0").Stdout);
            Assert.Equal("1", system.Property(Service, "NFileDescriptorStore"));

            system.Check("systemctl", "kill", "--signal=SIGKILL", Service);

            Assert.NotEqual(0, (await attach).ExitCode);
            // Restart=on-failure brings it back; the hold comes back from the store and the unfinished setup is undone.
            var journal = system.WaitForJournal(Service, "its setup never finished", cursor, TimeSpan.FromSeconds(60));
            Assert.Contains("restored from systemd's file descriptor store", journal);
            Assert.DoesNotContain("incompletely", journal);
            Assert.NotEqual(mainPid, system.Property(Service, "MainPID"));
            Assert.Equal("1", system.Property(Service, "NRestarts"));
            Assert.NotEqual(0, installed.InNetnsOf(target, "ip", "link", "show", "eth0").ExitCode);
            Assert.Equal("0", system.Property(Service, "NFileDescriptorStore"));
            Assert.DoesNotContain(installed.Attachments(InstalledSystem.Alice), a => (string)a["resource"]! == InstalledSystem.Slow);
            Assert.Equal("", system.Run("sh", "-c", $"ls /var/lib/net-porter/host-local/{InstalledSystem.Slow} 2>/dev/null | grep '^192' || true").Stdout.Trim());
        }
        finally
        {
            system.Run("kill", target.ToString(CultureInfo.InvariantCulture));
            system.Run("systemctl", "reset-failed", Service);
        }
    }

    [Fact]
    public void A_DHCP_lease_is_acquired_again_through_the_restored_hold_after_a_restart()
    {
        var system = installed.System;
        var target = installed.StartNetnsProcess(InstalledSystem.Alice);
        try
        {
            var attach = system.As(InstalledSystem.Alice, $"{InstalledSystem.Plugin} attach --resource {InstalledSystem.Dhcp} --pid {target} --json", timeout: TimeSpan.FromSeconds(60));
            Assert.True(attach.ExitCode == 0, $"{attach}\n{system.Journal(Service)}");
            var address = AddressOf(attach.Stdout);
            var mac = (string)JsonNode.Parse(attach.Stdout)!["interfaces"]!["eth0"]!["mac_address"]!;
            var acks = AcksFor(address);
            var cursor = system.Cursor();

            system.Check("systemctl", "restart", Service);

            var journal = system.WaitForJournal(Service, $"acquired again: {address}", cursor, TimeSpan.FromSeconds(60));
            Assert.Contains("restored from systemd's file descriptor store", journal);
            Assert.DoesNotContain("cannot be renewed", journal);
            // The DHCP server saw the new server's daemon ask for that lease again, for the same MAC.
            Wait.Until(() => AcksFor(address) > acks, TimeSpan.FromSeconds(20), "a new DHCPACK after the restart", () => installed.DhcpServer.Log);
            Assert.Contains(mac, installed.DhcpServer.Log, StringComparison.OrdinalIgnoreCase);
            var lease = (string)Assert.Single(installed.Attachments(InstalledSystem.Alice), a => (string)a["resource"]! == InstalledSystem.Dhcp)["lease"]!;
            Assert.StartsWith("acquired again ", lease);
            Assert.EndsWith($"({address}/24)", lease);

            var detach = system.As(InstalledSystem.Alice, $"{InstalledSystem.Plugin} detach --resource {InstalledSystem.Dhcp} --pid {target}");
            Assert.True(detach.ExitCode == 0, detach.ToString());
        }
        finally
        {
            system.Run("kill", target.ToString(CultureInfo.InvariantCulture));
        }
    }

    [Fact]
    public void A_named_namespace_unit_wires_a_service_into_the_LAN_and_takes_it_down_again()
    {
        var system = installed.System;
        system.WriteFile("/etc/net-porter/netns/web.json", $$"""{ "attachments": [{ "resource": "{{InstalledSystem.HostLocal}}" }] }""");
        // A service that joins the namespace, as the README shows it.
        system.WriteFile("/etc/systemd/system/np-web.service", """
            [Unit]
            BindsTo=net-porter-netns@web.service
            After=net-porter-netns@web.service
            [Service]
            NetworkNamespacePath=/run/netns/web
            ExecStart=/usr/bin/sleep infinity
            """);
        system.Check("systemctl", "daemon-reload");
        try
        {
            var start = system.Run("systemctl", "start", "net-porter-netns@web.service", "np-web.service");
            Assert.True(start.ExitCode == 0, $"{start}\n{system.Journal("net-porter-netns@web.service")}\n{system.Journal(Service)}");

            var address = system.Check("ip", "-n", "web", "-o", "-4", "addr", "show", "eth0");
            Assert.Contains("inet 192.168.77.1", address);
            var web = system.Property("np-web.service", "MainPID");
            Assert.Equal(system.Check("stat", "-L", "-c", "%i", "/run/netns/web").Trim(), system.Check("stat", "-L", "-c", "%i", $"/proc/{web}/ns/net").Trim());
            Assert.Contains(installed.HostLocalAddress(address), installed.System.Lan.InLan("ping", "-c", "1", "-W", "3", installed.HostLocalAddress(address)).Stdout);
            Assert.Contains("netns web", system.Check("net-porter", "status"));

            system.Check("systemctl", "stop", "net-porter-netns@web.service");

            // BindsTo= took the service down with it; the namespace and the attachment are gone.
            Assert.Equal("inactive", system.Property("np-web.service", "ActiveState"));
            Assert.NotEqual(0, system.Run("test", "-e", "/run/netns/web").ExitCode);
            Assert.DoesNotContain("netns web", system.Check("net-porter", "status"));
        }
        finally
        {
            system.Run("systemctl", "stop", "np-web.service", "net-porter-netns@web.service");
            system.Run("rm", "-f", "/etc/systemd/system/np-web.service", "/etc/net-porter/netns/web.json");
            system.Run("systemctl", "daemon-reload");
        }
    }

    [Fact]
    public void The_shipped_NAT_bridge_example_works_under_the_hardened_unit()
    {
        // bridge, host-local, portmap, firewall (iptables) and bandwidth as the package ships them: the host bridge,
        // the interface sysctls, iptables' NAT and filter rules all happen inside the unit's sandbox.
        var system = installed.System;
        system.Check("cp", "/usr/share/doc/net-porter/examples/cni.d/bridge-nat.conflist", "/etc/net-porter/cni.d/");
        installed.WriteConfig(InstalledSystem.StandardResources + ",\n{ \"name\": \"bridge-nat\", \"allow_users\": [\"alice\"] }");
        installed.Reload("configuration reloaded: 4 resources");
        var target = installed.StartNetnsProcess(InstalledSystem.Alice);
        try
        {
            var attach = system.As(InstalledSystem.Alice, $"{InstalledSystem.Plugin} attach --resource bridge-nat --pid {target}");
            Assert.True(attach.ExitCode == 0, $"{attach}\n{system.Journal(Service)}");
            Assert.Contains("10.88.10.", attach.Stdout);
            // Out through the bridge and the NAT to the LAN's gateway.
            var ping = installed.InNetnsOf(target, "ping", "-c", "1", "-W", "3", ScratchLan.Gateway);
            Assert.True(ping.ExitCode == 0, $"{ping}\n{system.Run("iptables-save")}");
            Assert.Contains("CNI-", system.Check("iptables-save", "-t", "nat"));

            var detach = system.As(InstalledSystem.Alice, $"{InstalledSystem.Plugin} detach --resource bridge-nat --pid {target}");

            Assert.True(detach.ExitCode == 0, $"{detach}\n{system.Journal(Service)}");
            Assert.NotEqual(0, system.Run("ip", "link", "show", "np-nat0").ExitCode);
            Assert.DoesNotContain("10.88.10.", system.Check("iptables-save", "-t", "nat"));
        }
        finally
        {
            system.Run("kill", target.ToString(CultureInfo.InvariantCulture));
            system.Run("rm", "-f", "/etc/net-porter/cni.d/bridge-nat.conflist");
            installed.WriteConfig(InstalledSystem.StandardResources);
            installed.Reload("configuration reloaded: 3 resources");
        }
    }

    private int AcksFor(string address) =>
        installed.DhcpServer.Log.Split('\n').Count(l => l.Contains("DHCPACK", StringComparison.Ordinal) && l.Contains(address, StringComparison.Ordinal));

    /// <summary>The first IPv4 address of a StatusBlock, without its prefix.</summary>
    private static string AddressOf(string statusBlock)
    {
        var subnets = JsonNode.Parse(statusBlock)!["interfaces"]!["eth0"]!["subnets"]!.AsArray();
        return ((string)subnets[0]!["ipnet"]!).Split('/')[0];
    }
}
