using Microsoft.Win32.SafeHandles;

namespace Porter.Plugin.Netns;

/// <summary>
/// An exclusive flock(2) on a lock file, held until disposed (or until the process dies: the kernel drops it, so a
/// crashed `netns up` never leaves a lock behind). Blocks until the lock is free.
/// </summary>
public sealed class FileLock : IDisposable
{
    private readonly SafeFileHandle _handle;

    private FileLock(SafeFileHandle handle)
    {
        _handle = handle;
    }

    public static FileLock Acquire(string path)
    {
        // Opened with open(2), not FileStream: .NET takes a non-blocking flock of its own on every file it opens, which
        // would fail at once while another holder has the lock, instead of waiting for it.
        var fd = Libc.Open(path, Libc.O_RDWR | Libc.O_CREAT | Libc.O_CLOEXEC, 0x180);
        if (fd < 0)
        {
            throw new PluginException($"cannot open lock file {path}: {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(System.Runtime.InteropServices.Marshal.GetLastPInvokeError())}");
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        while (Libc.Flock((int)handle.DangerousGetHandle(), Libc.LOCK_EX) != 0)
        {
            var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            if (errno != Libc.EINTR) // a signal arrived while waiting: wait on
            {
                handle.Dispose();
                throw new PluginException($"cannot lock {path}: {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno)}");
            }
        }
        return new FileLock(handle);
    }

    public void Dispose() => _handle.Dispose();
}
