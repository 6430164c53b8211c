namespace GroupedGemm.Interop.Ilgpu;

/// <summary>Prints one line per check (PASS, FAIL or SKIP) and counts them for the summary and the exit code.</summary>
internal sealed class CheckLog
{
    /// <summary>Checks that passed.</summary>
    public int Passed { get; private set; }

    /// <summary>Checks that failed.</summary>
    public int Failed { get; private set; }

    /// <summary>Checks that could not run on this build or device (not failures).</summary>
    public int Skipped { get; private set; }

    /// <summary>Records a check.</summary>
    /// <param name="name">What was checked.</param>
    /// <param name="ok">Whether it held.</param>
    /// <param name="detail">The numbers behind the verdict.</param>
    public void Record(string name, bool ok, string detail)
    {
        if (ok) Passed++;
        else Failed++;
        Console.WriteLine($"{(ok ? "PASS" : "FAIL")}  {name}: {detail}");
    }

    /// <summary>Records a check that could not run here, with the reason.</summary>
    /// <param name="name">What would have been checked.</param>
    /// <param name="reason">Why it did not run.</param>
    public void Skip(string name, string reason)
    {
        Skipped++;
        Console.WriteLine($"SKIP  {name}: {reason}");
    }

    /// <summary>The final summary line.</summary>
    /// <returns>"N passed, N failed, N skipped".</returns>
    public string Summary() => $"{Passed} passed, {Failed} failed, {Skipped} skipped";
}
