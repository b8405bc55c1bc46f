using Porter.Server.Configuration;
using Porter.Server.Identity;

namespace Porter.Server.Authorization;

public sealed record AccessDecision(bool Allowed, string Reason);

/// <summary>
/// Who may use a resource: nobody, unless allow_users names the caller (by name or uid) or allow_groups names
/// one of the groups the user database puts them in (by name or gid). Root is not special here.
/// </summary>
public static class AccessPolicy
{
    public static AccessDecision Decide(ResourceConfig resource, CallerIdentity caller)
    {
        foreach (var principal in resource.AllowUsers)
        {
            if (principal.Id == caller.Uid || (principal.Name is not null && principal.Name == caller.UserName))
            {
                return new AccessDecision(true, $"{caller.Describe()} is listed in allow_users of '{resource.Name}'");
            }
        }
        foreach (var principal in resource.AllowGroups)
        {
            foreach (var group in caller.Groups)
            {
                if (principal.Id == group.Gid || (principal.Name is not null && group.Name.Length > 0 && principal.Name == group.Name))
                {
                    return new AccessDecision(true, $"{caller.Describe()} is in group '{principal}', listed in allow_groups of '{resource.Name}'");
                }
            }
        }
        return new AccessDecision(false,
            $"{caller.Describe()} may not use resource '{resource.Name}': neither the user nor any of their groups is granted it");
    }

    public static IEnumerable<string> GrantedResources(ServerConfig config, CallerIdentity caller) =>
        config.Resources.Where(r => Decide(r, caller).Allowed).Select(r => r.Name).Order(StringComparer.Ordinal);
}
