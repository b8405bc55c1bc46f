using System.Collections.Immutable;
using Porter.Server.Configuration;
using Porter.Server.Identity;
using Porter.Server.Net;

namespace Porter.Server.Authorization;

/// <summary>
/// The outcome for one caller and resource. When allowed, <see cref="Ips"/> and <see cref="Macs"/> are the union of
/// what every matching grant permits as static addresses (empty: none may be requested).
/// </summary>
public sealed record AccessDecision(bool Allowed, string Reason, ImmutableArray<IpRange> Ips, ImmutableArray<MacRange> Macs);

/// <summary>
/// Who may use a resource: nobody, unless allow_users names the caller (by name or uid) or allow_groups names
/// one of the groups the user database puts them in (by name or gid). Root is not special here.
/// </summary>
public static class AccessPolicy
{
    public static AccessDecision Decide(ResourceConfig resource, CallerIdentity caller)
    {
        var matched = resource.AllowUsers.Where(g => MatchesUser(g.Principal, caller))
            .Concat(resource.AllowGroups.Where(g => caller.Groups.Any(group => MatchesGroup(g.Principal, group))))
            .ToList();
        if (matched.Count == 0)
        {
            return new AccessDecision(false,
                $"{caller.Describe()} may not use resource '{resource.Name}': neither the user nor any of their groups is granted it", [], []);
        }
        var how = resource.AllowUsers.Any(g => MatchesUser(g.Principal, caller))
            ? $"{caller.Describe()} is listed in allow_users of '{resource.Name}'"
            : $"{caller.Describe()} is in group '{matched[0].Principal}', listed in allow_groups of '{resource.Name}'";
        return new AccessDecision(true, how, [.. matched.SelectMany(g => g.Ips).Distinct()], [.. matched.SelectMany(g => g.Macs).Distinct()]);
    }

    private static bool MatchesUser(Principal principal, CallerIdentity caller) =>
        principal.Id == caller.Uid || (principal.Name is not null && principal.Name == caller.UserName);

    private static bool MatchesGroup(Principal principal, GroupEntry group) =>
        principal.Id == group.Gid || (principal.Name is not null && group.Name.Length > 0 && principal.Name == group.Name);

    public static IEnumerable<string> GrantedResources(ServerConfig config, CallerIdentity caller) =>
        config.Resources.Where(r => Decide(r, caller).Allowed).Select(r => r.Name).Order(StringComparer.Ordinal);
}
