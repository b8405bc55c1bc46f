using Porter.Server.Cni.Runtime;
using Xunit;

namespace Porter.Tests.Server.Cni.Runtime;

public sealed class RuntimeConfTests
{
    [Fact]
    public void FormatCniArgs_starts_with_IgnoreUnknown_and_keeps_the_order()
    {
        var rt = new RuntimeConf
        {
            ContainerId = "1000-abc",
            NetNs = "/proc/1/ns/net",
            IfName = "eth0",
            Args = [new("K8S_POD_NAME", "web"), new("K8S_POD_INFRA_CONTAINER_ID", "abc"), new("MAC", "aa:bb:cc:dd:ee:ff")],
        };

        Assert.Equal("IgnoreUnknown=1;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=abc;MAC=aa:bb:cc:dd:ee:ff", rt.FormatCniArgs());
    }

    [Fact]
    public void FormatCniArgs_without_args_is_just_IgnoreUnknown()
    {
        var rt = new RuntimeConf { ContainerId = "c", NetNs = "", IfName = "eth0" };
        Assert.Equal("IgnoreUnknown=1", rt.FormatCniArgs());
    }
}
