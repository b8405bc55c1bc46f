// The server it fuzzes is Linux-only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
