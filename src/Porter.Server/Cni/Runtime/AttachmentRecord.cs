using System.Collections.Immutable;
using System.Text.Json.Nodes;
using Porter.Server.Cni.Config;

namespace Porter.Server.Cni.Runtime;

/// <summary>
/// Names one attachment as libcni does: network, container id (uid-scoped by the server) and interface. Every part is
/// validated before it gets here (no '/'), so <see cref="Name"/> is a safe file name.
/// </summary>
public readonly record struct RecordId(string Network, string ContainerId, string IfName)
{
    /// <summary>libcni's cache file name, &lt;network&gt;-&lt;containerId&gt;-&lt;ifName&gt;.</summary>
    public string Name => $"{Network}-{ContainerId}-{IfName}";

    public override string ToString() => Name;
}

/// <summary>
/// One attachment as the runtime remembers it: libcni's cached fields (what DEL needs to run again exactly as ADD ran)
/// and <see cref="Facts"/>, the server's own knowledge of whose it is and where it lives.
/// </summary>
public sealed record AttachmentRecord
{
    public required RecordId Id { get; init; }
    /// <summary>The normalised configuration list exactly as ADD ran it.</summary>
    public required byte[] Config { get; init; }
    /// <summary>The namespace path the plugins were given ("" once nothing holds it for the server).</summary>
    public required string NetNs { get; init; }
    public required ImmutableArray<KeyValuePair<string, string>> CniArgs { get; init; }
    public required ImmutableDictionary<string, JsonNode> CapabilityArgs { get; init; }
    public ImmutableDictionary<string, JsonNode> ConfigArgs { get; init; } = ImmutableDictionary<string, JsonNode>.Empty;
    /// <summary>The latest result: the final ADD result, or the last plugin's result while ADD is under way.</summary>
    public JsonObject? Result { get; init; }
    /// <summary>True once every plugin of the list succeeded.</summary>
    public bool Complete { get; init; }
    public required AttachmentFacts Facts { get; init; }
    /// <summary>Where the record was read from, for messages ("" for one not read from disk).</summary>
    public string Location { get; init; } = "";

    public RuntimeConf ToRuntimeConf(string netns) => new()
    {
        ContainerId = Id.ContainerId,
        NetNs = netns,
        IfName = Id.IfName,
        Args = CniArgs,
        CapabilityArgs = CapabilityArgs,
        ConfigArgs = ConfigArgs,
    };

    /// <summary>The recorded configuration list (throws <see cref="Json.ConfigException"/> when it is unreadable).</summary>
    public NetworkConfigList ConfigList() => NetworkConfigList.FromBytes(Config, Location);
}

/// <summary>
/// What the server knows of an attachment beyond CNI: its owner, the caller's view of the namespace, and how to tell
/// whether that namespace still lives (inode, boot) or is held for the server.
/// </summary>
public sealed record AttachmentFacts
{
    /// <summary>The owner's uid; null only for a record the server did not write (a plain libcni entry).</summary>
    public uint? Uid { get; init; }
    public string User { get; init; } = "";
    /// <summary>The caller's pid at setup.</summary>
    public int Pid { get; init; }
    public string Resource { get; init; } = "";
    /// <summary>The container id as the caller gave it (the record's id carries the uid-scoped one).</summary>
    public string ContainerId { get; init; } = "";
    public string ContainerName { get; init; } = "";
    /// <summary>The netns path as the caller named it.</summary>
    public string CallerNetns { get; init; } = "";
    /// <summary>The inode of the attached network namespace (nsfs), to recognise it again.</summary>
    public ulong? NetnsInode { get; init; }
    /// <summary>The boot the attachment was made in: no namespace outlives a reboot.</summary>
    public string BootId { get; init; } = "";
    /// <summary>The server's hold of the namespace (a bind mount), "" when none.</summary>
    public string Hold { get; init; } = "";
    public DateTimeOffset? Created { get; init; }
    /// <summary>What was attached: a container (netavark), a process, a path or a named namespace (net-porter attach, netns up).</summary>
    public AttachmentSubject Subject { get; init; } = AttachmentSubject.Container;

    /// <summary>The owner for log lines: the user name, else the uid.</summary>
    public string Owner => User.Length > 0 ? User : $"uid {Uid?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown"}";
}

public enum SubjectKind
{
    /// <summary>A container's namespace, attached by netavark (Setup).</summary>
    Container,
    /// <summary>The namespace of a process named by its PID (Attach).</summary>
    Process,
    /// <summary>A namespace bind-mounted at a path the caller named (Attach).</summary>
    Path,
    /// <summary>A named namespace under /run/netns that net-porter netns up made or adopted (Attach).</summary>
    Netns,
}

/// <summary>What an attachment was made for, as status shows it and as garbage collection judges its namespace.</summary>
public sealed record AttachmentSubject(SubjectKind Kind, int Pid = 0, string ProcessName = "", string NetnsName = "")
{
    public static readonly AttachmentSubject Container = new(SubjectKind.Container);

    /// <summary>
    /// Whether a bind mount of the namespace (anywhere but the server's own holds) keeps it alive. A container or a
    /// process is gone when no process is left in its namespace (podman may leave the netns file behind a killed
    /// container); a namespace the caller named by its path, or a named one, lives without any process, as
    /// `ip netns add` makes them, until its mount goes.
    /// </summary>
    public bool LivesWhileMounted => Kind is SubjectKind.Path or SubjectKind.Netns;

    /// <summary>The spelling records and status use.</summary>
    public string KindName => Kind switch
    {
        SubjectKind.Process => "process",
        SubjectKind.Path => "path",
        SubjectKind.Netns => "netns",
        _ => "container",
    };

    public static SubjectKind ParseKind(string text) => text switch
    {
        "container" => SubjectKind.Container,
        "process" => SubjectKind.Process,
        "path" => SubjectKind.Path,
        "netns" => SubjectKind.Netns,
        _ => throw new FormatException($"\"subject.kind\" is not one of container, process, path, netns: '{text}'"),
    };
}
