using Porter.Testbed;

namespace Porter.IntegrationTests.Infrastructure;

/// <summary>
/// A CNI plugin directory for tests that must hold a setup in the middle: the real plugins (linked), "gate", which
/// holds every ADD until DIR/gate.go exists (touching DIR/gate.started and DIR/waiting-CONTAINERID while it waits), and "marker", which passes
/// its prevResult on or, when told, fails with a message naming the directory.
/// </summary>
public static class GatePlugins
{
    public static string Create(Workspace workspace, string name, bool markerFails)
    {
        var dir = Directory.CreateDirectory(Path.Combine(workspace.Root, name)).FullName;
        foreach (var plugin in Directory.GetFiles("/usr/lib/cni"))
        {
            File.CreateSymbolicLink(Path.Combine(dir, Path.GetFileName(plugin)), plugin);
        }
        const string Head = """
            #!/usr/bin/python3
            import json, os, sys, time
            conf = json.load(sys.stdin)
            if os.environ["CNI_COMMAND"] == "VERSION":
                print(json.dumps({"cniVersion": "1.0.0", "supportedVersions": ["0.4.0", "1.0.0"]}))
                sys.exit(0)
            if os.environ["CNI_COMMAND"] != "ADD":
                sys.exit(0)

            """;
        Script(Path.Combine(dir, "gate"), Head + $$"""
            open("{{dir}}/gate.started", "w").close()
            open("{{dir}}/waiting-" + os.environ["CNI_CONTAINERID"], "w").close()
            while not os.path.exists("{{dir}}/gate.go"):
                time.sleep(0.05)
            print(json.dumps(conf["prevResult"]))
            """);
        Script(Path.Combine(dir, "marker"), Head + (markerFails
            ? $$"""
              print(json.dumps({"cniVersion": "1.0.0", "code": 999, "msg": "the marker of {{name}} ran"}))
              sys.exit(1)
              """
            : """
              print(json.dumps(conf["prevResult"]))
              """));
        return dir;
    }

    private static void Script(string path, string text)
    {
        File.WriteAllText(path, text.ReplaceLineEndings("\n") + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                                   UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
    }
}
