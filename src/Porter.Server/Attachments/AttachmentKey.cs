using System.Globalization;
using Porter.Server.Cni.Runtime;

namespace Porter.Server.Attachments;

/// <summary>
/// Identifies an attachment. Container ids are chosen by callers, so everything keyed by them is scoped by the
/// owner's uid: <see cref="ScopedContainerId"/> ("1000-&lt;id&gt;") is what CNI, the cache and IPAM see, and two
/// users with the same container id can neither collide nor reach each other's attachments.
/// </summary>
public readonly record struct AttachmentKey(uint Uid, string Resource, string ContainerId, string IfName)
{
    public string ScopedContainerId => $"{Uid.ToString(CultureInfo.InvariantCulture)}-{ContainerId}";

    /// <summary>The runtime's name for the attachment's record.</summary>
    public RecordId Record => new(Resource, ScopedContainerId, IfName);

    public string LockKey => LockKeyFor(Record);

    /// <summary>The lock every setup, teardown, release and renewal of the attachment takes.</summary>
    public static string LockKeyFor(RecordId record) => $"{record.Network}/{record.ContainerId}/{record.IfName}";


    public override string ToString() => $"container {ContainerId} ({IfName}) on resource '{Resource}'";
}
