using System.Reflection;
using Grpc.Core;
using Porter.Protocol;
using Porter.Protocol.V1;
using Porter.Server.Attachments;
using Porter.Server.Authorization;
using Porter.Server.Configuration;

namespace Porter.Server.Rpc;

/// <summary>netporter.v1.Porter: the generated service base, bound to the implementations.</summary>
public sealed class PorterService(ConfigStore store, CreateCheck create, AttachmentService attachments, StatusReport status) : Protocol.V1.Porter.PorterBase
{
    public static string ServerVersion { get; } =
        typeof(PorterService).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public override Task<InfoResponse> Info(InfoRequest request, ServerCallContext context)
    {
        var caller = CallContexts.Of(context).Caller;
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

    public override Task<CreateResponse> Create(CreateRequest request, ServerCallContext context) => create.CreateAsync(request, CallContexts.Of(context));

    public override Task<SetupResponse> Setup(SetupRequest request, ServerCallContext context) => attachments.SetupAsync(request, CallContexts.Of(context));

    public override Task<TeardownResponse> Teardown(TeardownRequest request, ServerCallContext context) => attachments.TeardownAsync(request, CallContexts.Of(context));

    public override Task<SetupResponse> Attach(AttachRequest request, ServerCallContext context) => attachments.AttachAsync(request, CallContexts.Of(context));

    public override Task<TeardownResponse> Detach(DetachRequest request, ServerCallContext context) => attachments.DetachAsync(request, CallContexts.Of(context));

    public override Task<StatusResponse> Status(StatusRequest request, ServerCallContext context) =>
        Task.FromResult(status.For(CallContexts.Of(context).Caller));
}
