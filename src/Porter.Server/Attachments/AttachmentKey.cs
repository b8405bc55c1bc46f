using System.Globalization;

namespace Porter.Server.Attachments;

/// <summary>
/// Identifies an attachment. Container ids are chosen by callers, so everything keyed by them is scoped by the
/// owner's uid: <see cref="ScopedContainerId"/> ("1000-&lt;id&gt;") is what CNI, the cache and IPAM see, and two
/// users with the same container id can neither collide nor reach each other's attachments.
/// </summary>
public readonly record struct AttachmentKey(uint Uid, string Resource, string ContainerId, string IfName)
{
    public string ScopedContainerId => $"{Uid.ToString(CultureInfo.InvariantCulture)}-{ContainerId}";

    public string LockKey => LockKeyFor(Resource, ScopedContainerId, IfName);

    public static string LockKeyFor(string resource, string scopedContainerId, string ifName) => $"{resource}/{scopedContainerId}/{ifName}";

    /// <summary>File name of the attachment's held namespace (every part is validated: no '/').</summary>
    public string HoldName => $"{Resource}-{ScopedContainerId}-{IfName}";

    public override string ToString() => $"container {ContainerId} ({IfName}) on resource '{Resource}'";
}
