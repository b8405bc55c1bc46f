// Booted systems are heavy (a whole systemd each) and the machine has two cores: one test at a time.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
