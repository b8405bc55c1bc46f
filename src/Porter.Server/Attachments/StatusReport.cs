using System.Globalization;
using Porter.Protocol.V1;
using Porter.Server.Cni.Config;
using Porter.Server.Cni.Runtime;
using Porter.Server.Cni.Types;
using Porter.Server.Drivers;
using Porter.Server.Identity;
using Porter.Server.Json;
using Porter.Server.Limits;
using Porter.Server.Namespaces;

namespace Porter.Server.Attachments;

/// <summary>
/// Status: every attachment root may see (all of them) or a user may see (their own), from the records as they are
/// now, with each user's counts against the limits. Reading needs no lock: a record being written is replaced
/// atomically, so the list shows each attachment before or after a change, never half of one.
/// </summary>
public sealed class StatusReport(CniRuntime runtime, UserLimits limits, LeaseStates leases)
{
    public StatusResponse For(CallerIdentity caller)
    {
        var response = new StatusResponse
        {
            Caller = new Caller { Uid = caller.Uid, Gid = caller.Gid, Pid = caller.Pid, User = caller.UserName },
            Everyone = caller.IsRoot,
        };
        var records = runtime.Attachments.List().Records
            .Where(r => r.Facts.Uid is not null && (caller.IsRoot || r.Facts.Uid == caller.Uid))
            .OrderBy(r => r.Facts.Uid)
            .ThenBy(r => r.Facts.Created ?? DateTimeOffset.MinValue)
            .ThenBy(r => r.Id.Name, StringComparer.Ordinal)
            .ToList();
        response.Attachments.AddRange(records.Select(Describe));

        var perUser = records.GroupBy(r => r.Facts.Uid!.Value).ToDictionary(g => g.Key, g => (Count: g.Count(), User: g.First().Facts.User));
        if (!caller.IsRoot && !perUser.ContainsKey(caller.Uid))
        {
            perUser[caller.Uid] = (0, caller.UserName);
        }
        foreach (var (uid, (count, user)) in perUser.OrderBy(kv => kv.Key))
        {
            response.Users.Add(new UserUsage
            {
                Uid = uid,
                User = user,
                Attachments = (uint)count,
                AttachmentLimit = uid == 0 ? 0 : (uint)limits.AttachmentsPerUser,
                RequestsInProgress = (uint)limits.Requests.HeldBy(uid),
                RequestLimit = uid == 0 ? 0 : (uint)limits.Requests.Limit,
            });
        }
        return response;
    }

    private AttachmentStatus Describe(AttachmentRecord record)
    {
        var facts = record.Facts;
        var status = new AttachmentStatus
        {
            Uid = facts.Uid ?? 0,
            User = facts.User,
            Resource = record.Id.Network,
            InterfaceName = record.Id.IfName,
            Kind = facts.Subject.KindName,
            ContainerId = facts.ContainerId,
            ContainerName = facts.ContainerName,
            Pid = facts.Subject.Pid,
            ProcessName = facts.Subject.ProcessName,
            NetnsName = facts.Subject.NetnsName,
            NetnsPath = facts.CallerNetns,
            NetnsInode = facts.NetnsInode ?? 0,
            Since = facts.Created?.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "",
            Held = NetnsHolds.IsHeld(facts.Hold),
            Complete = record.Complete,
        };
        if (record.Result is { } raw)
        {
            try
            {
                var result = CniResult.Parse(raw);
                status.Addresses.AddRange(result.Ips.Select(ip => ip.Address));
                // The container-side interface (it has a sandbox), else the one of the attachment's name.
                var iface = result.Interfaces.FirstOrDefault(i => i.Sandbox.Length > 0) ?? result.Interfaces.FirstOrDefault(i => i.Name == record.Id.IfName);
                status.MacAddress = iface?.Mac.ToLowerInvariant() ?? "";
            }
            catch (FormatException)
            {
                // A result the runtime could not read shows no addresses; the attachment is still listed.
            }
        }
        if (KeepsLease(record))
        {
            status.Lease = leases.Describe(record.Id.Name);
        }
        return status;
    }

    private static bool KeepsLease(AttachmentRecord record)
    {
        try
        {
            return NetworkKind.Of(record.ConfigList()).Ipam.KeepsLease;
        }
        catch (ConfigException)
        {
            return false;
        }
    }
}
