// The tests share scratch namespaces, users and servers and assert on global state (links, allocations):
// they run one at a time.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
