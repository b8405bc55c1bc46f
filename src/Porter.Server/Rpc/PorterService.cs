using System.Reflection;
using Porter.Protocol;
using Porter.Protocol.V1;
using Porter.Server.Attachments;
using Porter.Server.Authorization;
using Porter.Server.Configuration;

namespace Porter.Server.Rpc;

/// <summary>Binds the methods of netporter.v1.Porter to their implementations.</summary>
public sealed class PorterService(ConfigStore store, CreateCheck create, AttachmentService attachments)
{
    public static string ServerVersion { get; } =
        typeof(PorterService).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public void Register(GrpcDispatcher dispatcher)
    {
        dispatcher.MapUnary(PorterApi.Info, InfoAsync);
        dispatcher.MapUnary(PorterApi.Create, create.CreateAsync);
        dispatcher.MapUnary(PorterApi.Setup, attachments.SetupAsync);
        dispatcher.MapUnary(PorterApi.Teardown, attachments.TeardownAsync);
    }

    private Task<InfoResponse> InfoAsync(InfoRequest request, CallContext call)
    {
        var caller = call.Caller;
        var response = new InfoResponse
        {
            ServerVersion = ServerVersion,
            ApiVersion = PorterApi.ApiVersion,
            Caller = new Caller { Uid = caller.Uid, Gid = caller.Gid, Pid = caller.Pid, User = caller.UserName },
        };
        response.Caller.Groups.AddRange(caller.Groups.Select(g => g.Name.Length > 0 ? g.Name : g.Gid.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        response.Resources.AddRange(AccessPolicy.GrantedResources(store.Current.Config, caller));
        return Task.FromResult(response);
    }
}
