// The testbed drives Linux namespaces, users and unix sockets.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
