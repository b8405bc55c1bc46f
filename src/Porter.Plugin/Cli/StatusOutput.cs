using System.Globalization;
using System.Text;
using Porter.Plugin.Netavark;
using Porter.Protocol.V1;

namespace Porter.Plugin.Cli;

/// <summary>status as a table (for people) or as JSON (for scripts; every field, full container ids).</summary>
public static class StatusOutput
{
    public static void PrintTable(TextWriter stdout, StatusResponse status)
    {
        stdout.WriteLine(status.Everyone
            ? "Attachments of every user:"
            : $"Attachments of {Who(status.Caller.User, status.Caller.Uid)}:");
        if (status.Attachments.Count == 0)
        {
            stdout.WriteLine("  (none)");
        }
        else
        {
            var rows = new List<string[]> { new[] { "USER", "UID", "RESOURCE", "IFACE", "ATTACHED", "ADDRESSES", "MAC", "SINCE", "HELD", "LEASE" } };
            rows.AddRange(status.Attachments.Select(a => new[]
            {
                a.User.Length > 0 ? a.User : "-",
                Number(a.Uid),
                a.Resource,
                a.InterfaceName,
                Subject(a),
                a.Addresses.Count > 0 ? string.Join(',', a.Addresses) : "-",
                a.MacAddress.Length > 0 ? a.MacAddress : "-",
                a.Since.Length > 0 ? a.Since : "-",
                a.Held ? "yes" : "no",
                a.Lease.Length > 0 ? a.Lease : "-",
            }));
            WriteTable(stdout, rows);
        }
        stdout.WriteLine();
        stdout.WriteLine("Per user:");
        var usage = new List<string[]> { new[] { "USER", "UID", "ATTACHMENTS", "REQUESTS" } };
        usage.AddRange(status.Users.Select(u => new[]
        {
            u.User.Length > 0 ? u.User : "-",
            Number(u.Uid),
            $"{Number(u.Attachments)}/{Limit(u.AttachmentLimit)}",
            $"{Number(u.RequestsInProgress)}/{Limit(u.RequestLimit)}",
        }));
        WriteTable(stdout, usage);
    }

    /// <summary>What an attachment was made for, in a few words.</summary>
    public static string Subject(AttachmentStatus a)
    {
        var what = a.Kind switch
        {
            "process" => $"process {Number(a.Pid)}{(a.ProcessName.Length > 0 ? $" ({a.ProcessName})" : "")}",
            "path" => $"netns {a.NetnsPath}",
            "netns" => $"netns {a.NetnsName}",
            _ => $"container {(a.ContainerId.Length > 12 ? a.ContainerId[..12] : a.ContainerId)}{(a.ContainerName.Length > 0 ? $" ({a.ContainerName})" : "")}",
        };
        return a.Complete ? what : $"{what} [setup unfinished]";
    }

    public static void PrintJson(TextWriter stdout, StatusResponse status) => stdout.WriteLine(Encoding.UTF8.GetString(PluginOutput.Write(w =>
    {
        w.WriteStartObject();
        w.WriteStartObject("caller");
        w.WriteNumber("uid", status.Caller.Uid);
        w.WriteString("user", status.Caller.User);
        w.WriteEndObject();
        w.WriteBoolean("everyone", status.Everyone);
        w.WriteStartArray("attachments");
        foreach (var a in status.Attachments)
        {
            w.WriteStartObject();
            w.WriteNumber("uid", a.Uid);
            w.WriteString("user", a.User);
            w.WriteString("resource", a.Resource);
            w.WriteString("interface", a.InterfaceName);
            w.WriteString("kind", a.Kind);
            w.WriteString("container_id", a.ContainerId);
            w.WriteString("container_name", a.ContainerName);
            w.WriteNumber("pid", a.Pid);
            w.WriteString("process_name", a.ProcessName);
            w.WriteString("netns_name", a.NetnsName);
            w.WriteString("netns_path", a.NetnsPath);
            w.WriteNumber("netns_inode", a.NetnsInode);
            w.WriteStartArray("addresses");
            foreach (var address in a.Addresses)
            {
                w.WriteStringValue(address);
            }
            w.WriteEndArray();
            w.WriteString("mac_address", a.MacAddress);
            w.WriteString("since", a.Since);
            w.WriteBoolean("held", a.Held);
            w.WriteBoolean("complete", a.Complete);
            w.WriteString("lease", a.Lease);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("users");
        foreach (var u in status.Users)
        {
            w.WriteStartObject();
            w.WriteNumber("uid", u.Uid);
            w.WriteString("user", u.User);
            w.WriteNumber("attachments", u.Attachments);
            w.WriteNumber("attachment_limit", u.AttachmentLimit);
            w.WriteNumber("requests_in_progress", u.RequestsInProgress);
            w.WriteNumber("request_limit", u.RequestLimit);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    })));

    private static void WriteTable(TextWriter stdout, List<string[]> rows)
    {
        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var row in rows)
        {
            stdout.WriteLine(("  " + string.Join("  ", row.Select((cell, c) => c == row.Length - 1 ? cell : cell.PadRight(widths[c])))).TrimEnd());
        }
    }

    private static string Who(string user, uint uid) => user.Length > 0 ? $"{user} (uid {Number(uid)})" : $"uid {Number(uid)}";

    private static string Limit(uint limit) => limit == 0 ? "unlimited" : Number(limit);

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}
