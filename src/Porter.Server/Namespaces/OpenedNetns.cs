using Microsoft.Win32.SafeHandles;

namespace Porter.Server.Namespaces;

/// <summary>
/// A verified network namespace held open by the server. CNI plugins are handed <see cref="ProcPath"/>, a path
/// to this open descriptor, so nothing the caller does to its own paths afterwards can swap the namespace.
/// </summary>
public sealed class OpenedNetns(SafeFileHandle handle, ulong inode, uint ownerUid, string callerPath) : IDisposable
{
    public SafeFileHandle Handle { get; } = handle;
    /// <summary>The namespace's nsfs inode: its identity for as long as it exists.</summary>
    public ulong Inode { get; } = inode;
    public uint OwnerUid { get; } = ownerUid;
    /// <summary>The path as the caller gave it (for logs and messages only).</summary>
    public string CallerPath { get; } = callerPath;
    public string ProcPath => $"/proc/{Environment.ProcessId}/fd/{Handle.DangerousGetHandle()}";

    public void Dispose() => Handle.Dispose();
}
