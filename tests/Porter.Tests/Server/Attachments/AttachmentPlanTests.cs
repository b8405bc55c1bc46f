using System.Text;
using System.Text.Json.Nodes;
using Grpc.Core;
using Porter.Protocol.V1;
using Porter.Server.Attachments;
using Porter.Server.Cni.Config;
using Porter.Server.Cni.Runtime;
using Porter.Server.Drivers;
using Xunit;

namespace Porter.Tests.Server.Attachments;

public sealed class AttachmentPlanTests
{
    private static NetworkConfigList Network(string mainPlugin) => NetworkConfigLoader.ParseList(
        Encoding.UTF8.GetBytes($$"""{"cniVersion": "1.0.0", "name": "lan", "plugins": [{{mainPlugin}}, {"type": "tuning"}]}"""),
        "/etc/net-porter/cni.d/lan.conflist", null, null);

    private static readonly NetworkConfigList HostLocal =
        Network("""{"type": "macvlan", "master": "eth0", "ipam": {"type": "host-local", "ranges": [[{"subnet": "192.168.1.0/24"}]]}}""");

    private static readonly NetworkConfigList StaticWithCapabilities =
        Network("""{"type": "macvlan", "master": "eth0", "capabilities": {"ips": true, "mac": true}, "ipam": {"type": "static"}}""");

    private static readonly NetworkConfigList StaticWithoutCapabilities =
        Network("""{"type": "macvlan", "master": "eth0", "ipam": {"type": "static"}}""");

    private static readonly NetworkConfigList Dhcp = Network("""{"type": "macvlan", "master": "eth0", "ipam": {"type": "dhcp"}}""");

    private static readonly NetworkConfigList NoIpam = Network("""{"type": "macvlan", "master": "eth0"}""");

    private static readonly NetworkConfigList EmptyIpam = Network("""{"type": "macvlan", "master": "eth0", "ipam": {}}""");

    private static readonly NetworkConfigList Ipvlan = Network("""{"type": "ipvlan", "master": "eth0", "ipam": {"type": "host-local"}}""");

    private static SetupRequest Request(string[]? ips = null, string mac = "", string name = "web", params string[] subnets)
    {
        var request = new SetupRequest
        {
            Resource = "lan",
            ContainerId = "3f6b0e2c",
            ContainerName = name,
            InterfaceName = "eth0",
            StaticMac = mac,
            Network = new Porter.Protocol.V1.Network { Name = "lan", Driver = "net-porter" },
        };
        request.StaticIps.AddRange(ips ?? []);
        foreach (var subnet in subnets)
        {
            request.Network.Subnets.Add(new NetworkSubnet { Subnet = subnet });
        }
        return request;
    }

    private static string Invalid(NetworkConfigList network, SetupRequest request)
    {
        var e = Assert.Throws<RpcException>(() => AttachmentPlan.For(network, NetworkKind.Of(network), request, 1000));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        return e.Status.Detail;
    }

    private static string? Json(IReadOnlyDictionary<string, JsonNode> values, string key) =>
        values.TryGetValue(key, out var node) ? node.ToJsonString() : null;

    [Fact]
    public void The_container_is_named_in_the_k8s_args_podman_used_to_pass()
    {
        var plan = AttachmentPlan.For(HostLocal, NetworkKind.Of(HostLocal), Request(), 1000);

        Assert.Equal(
            [new("K8S_POD_NAMESPACE", "web"), new("K8S_POD_NAME", "web"), new("K8S_POD_INFRA_CONTAINER_ID", "3f6b0e2c")],
            plan.CniArgs.AsEnumerable());
        Assert.Empty(plan.CapabilityArgs);
        Assert.Empty(plan.ConfigArgs);
    }

    [Fact]
    public void Without_a_container_name_only_the_infra_container_id_is_passed()
    {
        var plan = AttachmentPlan.For(HostLocal, NetworkKind.Of(HostLocal), Request(name: ""), 1000);
        Assert.Equal([new("K8S_POD_INFRA_CONTAINER_ID", "3f6b0e2c")], plan.CniArgs.AsEnumerable());
    }

    [Fact]
    public void Static_ips_get_the_prefix_of_their_podman_subnet()
    {
        var plan = AttachmentPlan.For(StaticWithCapabilities, NetworkKind.Of(StaticWithCapabilities),
            Request(["192.168.1.50", "fd00::50"], subnets: ["10.0.0.0/8", "192.168.1.0/24", "fd00::/64"]), 1000);

        Assert.Equal("""["192.168.1.50/24","fd00::50/64"]""", Json(plan.CapabilityArgs, "ips"));
    }

    [Fact]
    public void Ips_go_to_runtimeConfig_when_the_main_plugin_declares_the_capability()
    {
        var plan = AttachmentPlan.For(StaticWithCapabilities, NetworkKind.Of(StaticWithCapabilities), Request(["192.168.1.50"], subnets: "192.168.1.0/24"), 1000);

        Assert.Equal("""["192.168.1.50/24"]""", Json(plan.CapabilityArgs, "ips"));
        Assert.Empty(plan.ConfigArgs);

        var stdin = JsonNode.Parse(CniRuntime.BuildPluginConfig(StaticWithCapabilities, StaticWithCapabilities.MainPlugin, 0, "1.0.0", Runtime(plan), null))!;
        Assert.Equal("""{"ips":["192.168.1.50/24"]}""", stdin["runtimeConfig"]!.ToJsonString());
        Assert.Null(stdin["args"]);
    }

    [Fact]
    public void Ips_go_to_args_cni_when_the_main_plugin_does_not_declare_the_capability()
    {
        var plan = AttachmentPlan.For(StaticWithoutCapabilities, NetworkKind.Of(StaticWithoutCapabilities), Request(["192.168.1.50"], subnets: "192.168.1.0/24"), 1000);

        Assert.Equal("""["192.168.1.50/24"]""", Json(plan.ConfigArgs, "ips"));

        var stdin = JsonNode.Parse(CniRuntime.BuildPluginConfig(StaticWithoutCapabilities, StaticWithoutCapabilities.MainPlugin, 0, "1.0.0", Runtime(plan), null))!;
        Assert.Equal("""{"cni":{"ips":["192.168.1.50/24"]}}""", stdin["args"]!.ToJsonString());
        Assert.Null(stdin["runtimeConfig"]);
    }

    [Fact]
    public void host_local_takes_a_bare_address_when_no_subnet_contains_it()
    {
        var plan = AttachmentPlan.For(HostLocal, NetworkKind.Of(HostLocal), Request(["192.168.1.50"], subnets: "10.0.0.0/8"), 1000);
        Assert.Equal("""["192.168.1.50"]""", Json(plan.ConfigArgs, "ips"));

        var noNetwork = Request(["192.168.1.51"]);
        noNetwork.Network = null;
        Assert.Equal("""["192.168.1.51"]""", Json(AttachmentPlan.For(HostLocal, NetworkKind.Of(HostLocal), noNetwork, 1000).ConfigArgs, "ips"));
    }

    [Fact]
    public void Static_ipam_without_a_containing_subnet_is_refused()
    {
        Assert.Equal(
            "static IP 192.168.1.50 lies in none of the network's subnets; resource 'lan' uses static IPAM, which needs the prefix length: " +
            "create the podman network with a --subnet that contains it",
            Invalid(StaticWithCapabilities, Request(["192.168.1.50"], subnets: "10.0.0.0/8")));
    }

    [Fact]
    public void Static_ips_on_dhcp_are_refused()
    {
        Assert.Equal("resource 'lan' gets its addresses by DHCP; static IPs cannot be assigned on it",
            Invalid(Dhcp, Request(["192.168.1.50"], subnets: "192.168.1.0/24")));
    }

    [Fact]
    public void Static_ips_without_ipam_are_refused()
    {
        Assert.Equal("resource 'lan' has no IPAM, so static IPs cannot be assigned on it", Invalid(NoIpam, Request(["192.168.1.50"])));
        Assert.Equal("resource 'lan' has no IPAM, so static IPs cannot be assigned on it", Invalid(EmptyIpam, Request(["192.168.1.50"])));
    }

    [Fact]
    public void Dhcp_and_no_ipam_are_fine_without_static_ips()
    {
        // DHCP gets a stable MAC instead (same address on every start), and nothing else.
        Assert.Equal(["mac"], AttachmentPlan.For(Dhcp, NetworkKind.Of(Dhcp), Request(), 1000).CapabilityArgs.Keys);
        Assert.Empty(AttachmentPlan.For(NoIpam, NetworkKind.Of(NoIpam), Request(), 1000).ConfigArgs);
    }

    [Fact]
    public void An_invalid_static_ip_is_refused()
    {
        Assert.Equal("static_ips: '192.168.1.50/24' is not an IP address", Invalid(HostLocal, Request(["192.168.1.50/24"])));
    }

    [Fact]
    public void At_most_16_static_ips_are_accepted()
    {
        var ips = Enumerable.Range(1, 17).Select(i => $"192.168.1.{i}").ToArray();
        Assert.Equal("static_ips: 17 addresses given; at most 16 are allowed", Invalid(HostLocal, Request(ips)));
        Assert.Equal(16, AttachmentPlan.For(HostLocal, NetworkKind.Of(HostLocal), Request(ips[..16]), 1000).ConfigArgs["ips"].AsArray().Count);
    }

    [Fact]
    public void A_mac_goes_to_CNI_ARGS_when_the_main_plugin_has_no_mac_capability()
    {
        var plan = AttachmentPlan.For(HostLocal, NetworkKind.Of(HostLocal), Request(mac: "02:42:AC:11:00:02"), 1000);

        Assert.Equal(new KeyValuePair<string, string>("MAC", "02:42:ac:11:00:02"), plan.CniArgs[^1]);
        Assert.Equal(4, plan.CniArgs.Length);
        Assert.Equal("\"02:42:ac:11:00:02\"", Json(plan.CapabilityArgs, "mac"));
        Assert.Equal("IgnoreUnknown=1;K8S_POD_NAMESPACE=web;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=3f6b0e2c;MAC=02:42:ac:11:00:02",
            Runtime(plan).FormatCniArgs());
    }

    [Fact]
    public void A_mac_goes_to_runtimeConfig_only_when_the_main_plugin_declares_it()
    {
        var plan = AttachmentPlan.For(StaticWithCapabilities, NetworkKind.Of(StaticWithCapabilities), Request(mac: "02:42:ac:11:00:02"), 1000);

        Assert.DoesNotContain(plan.CniArgs, kv => kv.Key == "MAC");
        Assert.Equal("\"02:42:ac:11:00:02\"", Json(plan.CapabilityArgs, "mac"));
    }

    [Fact]
    public void A_mac_on_ipvlan_is_refused()
    {
        Assert.Equal("resource 'lan' is ipvlan, whose interfaces share the parent's MAC address; a static MAC cannot be used with it",
            Invalid(Ipvlan, Request(mac: "02:42:ac:11:00:02")));
    }

    [Fact]
    public void An_invalid_mac_is_refused()
    {
        Assert.Equal("static_mac: 01:00:5e:00:00:01 is a multicast address", Invalid(HostLocal, Request(mac: "01:00:5e:00:00:01")));
    }

    [Fact]
    public void Port_mappings_become_the_portMappings_capability()
    {
        var request = Request();
        request.PortMappings.Add(new PortMapping { ContainerPort = 80, HostPort = 8080, Range = 1, Protocol = "tcp" });

        var plan = AttachmentPlan.For(HostLocal, NetworkKind.Of(HostLocal), request, 1000);

        Assert.Equal("""[{"hostPort":8080,"containerPort":80,"protocol":"tcp"}]""", Json(plan.CapabilityArgs, "portMappings"));
    }

    private static RuntimeConf Runtime(AttachmentPlan plan) => new()
    {
        ContainerId = "1000-3f6b0e2c",
        NetNs = "/proc/1/ns/net",
        IfName = "eth0",
        Args = plan.CniArgs,
        CapabilityArgs = plan.CapabilityArgs,
        ConfigArgs = plan.ConfigArgs,
    };

    [Fact]
    public void A_dhcp_attachment_keeps_one_mac_per_user_container_and_interface()
    {
        var mac = AttachmentPlan.StableMac(1000, "lan", "c0ffee", "eth0");

        Assert.Matches("^[0-9a-f]{2}(:[0-9a-f]{2}){5}$", mac);
        Assert.Equal(2, Convert.ToByte(mac[..2], 16) & 3); // locally administered, unicast
        Assert.Equal(mac, AttachmentPlan.StableMac(1000, "lan", "c0ffee", "eth0"));
        Assert.NotEqual(mac, AttachmentPlan.StableMac(1001, "lan", "c0ffee", "eth0"));
        Assert.NotEqual(mac, AttachmentPlan.StableMac(1000, "lan", "c0ffee", "eth1"));
        Assert.NotEqual(mac, AttachmentPlan.StableMac(1000, "wan", "c0ffee", "eth0"));
        var request = Request();
        var expected = AttachmentPlan.StableMac(1000, Dhcp.Name, request.ContainerId, request.InterfaceName);
        Assert.Contains(new KeyValuePair<string, string>("MAC", expected), AttachmentPlan.For(Dhcp, NetworkKind.Of(Dhcp), request, 1000).CniArgs);
        Assert.Equal(expected, AttachmentPlan.For(Dhcp, NetworkKind.Of(Dhcp), request, 1000).CapabilityArgs["mac"].GetValue<string>());
    }
}
