namespace Porter.Server.Namespaces;

/// <summary>Processes of the server's own (the DHCP daemon) that may sit in container namespaces without keeping them "in use".</summary>
public interface IHelperProcesses
{
    IEnumerable<int> Pids { get; }
}
