namespace Porter.Plugin;

/// <summary>A failure to report to netavark as {"error": Message}; worded for the podman user who will read it.</summary>
public sealed class PluginException(string message) : Exception(message);
