// One podman world (scratch LAN, server, Debian 13 holder) serves every test; they run one at a time.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
