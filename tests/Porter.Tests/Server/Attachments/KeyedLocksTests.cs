using Porter.Server.Attachments;
using Xunit;

namespace Porter.Tests.Server.Attachments;

public sealed class KeyedLocksTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task The_same_key_waits_until_the_first_lease_is_disposed()
    {
        var locks = new KeyedLocks();
        var first = await locks.AcquireAsync("lan/1000-abc/eth0", CancellationToken.None);

        var second = locks.AcquireAsync("lan/1000-abc/eth0", CancellationToken.None);
        await Task.Delay(50);
        Assert.False(second.IsCompleted);

        first.Dispose();
        using var lease = await second.WaitAsync(Patience);
        Assert.NotNull(lease);
    }

    [Fact]
    public async Task Waiters_are_served_one_at_a_time()
    {
        var locks = new KeyedLocks();
        var first = await locks.AcquireAsync("k", CancellationToken.None);
        var second = locks.AcquireAsync("k", CancellationToken.None);
        var third = locks.AcquireAsync("k", CancellationToken.None);

        first.Dispose();
        var secondLease = await second.WaitAsync(Patience);
        await Task.Delay(50);
        Assert.False(third.IsCompleted);

        secondLease.Dispose();
        (await third.WaitAsync(Patience)).Dispose();
    }

    [Fact]
    public async Task Different_keys_do_not_block_each_other()
    {
        var locks = new KeyedLocks();
        using var a = await locks.AcquireAsync("lan/1000-abc/eth0", CancellationToken.None);

        var b = locks.AcquireAsync("lan/1000-abc/eth1", CancellationToken.None);
        var c = locks.AcquireAsync("wan/1000-abc/eth0", CancellationToken.None);

        Assert.True(b.IsCompletedSuccessfully);
        Assert.True(c.IsCompletedSuccessfully);
        (await b).Dispose();
        (await c).Dispose();
    }

    [Fact]
    public async Task Keys_are_case_sensitive()
    {
        var locks = new KeyedLocks();
        using var lower = await locks.AcquireAsync("lan", CancellationToken.None);
        var upper = locks.AcquireAsync("LAN", CancellationToken.None);
        Assert.True(upper.IsCompletedSuccessfully);
        (await upper).Dispose();
    }

    [Fact]
    public async Task Cancelling_a_waiter_leaves_the_lock_usable()
    {
        var locks = new KeyedLocks();
        var holder = await locks.AcquireAsync("k", CancellationToken.None);
        using var cts = new CancellationTokenSource();

        var cancelled = locks.AcquireAsync("k", cts.Token);
        var patient = locks.AcquireAsync("k", CancellationToken.None);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.False(patient.IsCompleted);

        holder.Dispose();
        var next = await patient.WaitAsync(Patience);
        var after = locks.AcquireAsync("k", CancellationToken.None);
        Assert.False(after.IsCompleted);

        next.Dispose();
        (await after.WaitAsync(Patience)).Dispose();

        // Nobody holds it any more: it is free at once.
        var free = locks.AcquireAsync("k", CancellationToken.None);
        Assert.True(free.IsCompletedSuccessfully);
        (await free).Dispose();
    }

    [Fact]
    public async Task The_only_waiter_cancelled_then_the_holder_leaving_frees_the_key()
    {
        var locks = new KeyedLocks();
        var holder = await locks.AcquireAsync("k", CancellationToken.None);
        using var cts = new CancellationTokenSource();
        var waiter = locks.AcquireAsync("k", cts.Token);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter);

        holder.Dispose();

        var again = locks.AcquireAsync("k", CancellationToken.None);
        Assert.True(again.IsCompletedSuccessfully);
        (await again).Dispose();
    }

    [Fact]
    public async Task An_already_cancelled_token_fails_without_taking_the_lock()
    {
        var locks = new KeyedLocks();
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => locks.AcquireAsync("k", cts.Token));

        var free = locks.AcquireAsync("k", CancellationToken.None);
        Assert.True(free.IsCompletedSuccessfully);
        (await free).Dispose();
    }

    [Fact]
    public async Task Disposing_a_lease_twice_releases_once()
    {
        var locks = new KeyedLocks();
        var first = await locks.AcquireAsync("k", CancellationToken.None);
        first.Dispose();

        using var second = await locks.AcquireAsync("k", CancellationToken.None);
        first.Dispose(); // must not release the lock that second now holds

        var third = locks.AcquireAsync("k", CancellationToken.None);
        await Task.Delay(50);
        Assert.False(third.IsCompleted);
        second.Dispose();
        (await third.WaitAsync(Patience)).Dispose();
    }
}
