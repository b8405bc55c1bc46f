namespace Porter.Testbed.Systemd;

/// <summary>
/// A throw-away copy of <see cref="SystemdRoot"/> (an overlay, with /proc) for installing packages into it without
/// booting it: rpm --root and pacman -r run their scriptlets chrooted into it. Everything happens in one shell, in a
/// mount namespace of its own, so no mount outlives it; the overlay's upper layer (what the install changed) stays
/// in <see cref="Changes"/> for the test to inspect until disposal.
/// </summary>
public sealed class ScratchRoot : IDisposable
{
    private readonly string _work;

    private ScratchRoot(string work)
    {
        _work = work;
    }

    /// <summary>What the scripts changed, as overlayfs keeps it (new and changed files).</summary>
    public string Changes => Path.Combine(_work, "upper");

    public static ScratchRoot Create()
    {
        SystemdRoot.Ensure();
        var work = Directory.CreateTempSubdirectory("npt-scratchroot-").FullName;
        foreach (var dir in new[] { "upper", "work", "merged" })
        {
            Directory.CreateDirectory(Path.Combine(work, dir));
        }
        return new ScratchRoot(work);
    }

    /// <summary>Runs a script with the overlay mounted at $ROOT (its /proc mounted); the packages are at $PACKAGES.</summary>
    public ShellResult Run(string script)
    {
        var wrapper = "set -eu; mount -t overlay overlay -o \"lowerdir=$1,upperdir=$2/upper,workdir=$2/work\" \"$2/merged\"; " +
            "mount -t proc proc \"$2/merged/proc\"; export ROOT=\"$2/merged\" PACKAGES=\"$3\"; " + script;
        return Shell.Run("unshare", ["--mount", "--propagation", "private", "--", "sh", "-c", wrapper, "sh", SystemdRoot.Directory, _work, Packages.Directory],
            null, TimeSpan.FromMinutes(5));
    }

    public void Dispose() => Shell.Try("rm", "-rf", "--one-file-system", _work);
}
