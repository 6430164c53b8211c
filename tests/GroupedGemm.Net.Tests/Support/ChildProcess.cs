using System.Diagnostics;

namespace GroupedGemm.Tests.Support;

/// <summary>Runs a program of the test machine (a C compiler, a probe, bash on a script of the repository).</summary>
internal static class ChildProcess
{
    /// <summary>Runs <paramref name="fileName"/> with <paramref name="arguments"/> and returns its standard output;
    /// both streams are read together, so that a full stderr pipe cannot stall the child.</summary>
    /// <param name="fileName">The program.</param>
    /// <param name="arguments">Its arguments, each passed as one argument (no shell quoting).</param>
    /// <param name="what">What the run is for, in the exception's message.</param>
    /// <returns>The program's standard output.</returns>
    /// <exception cref="InvalidOperationException">The program did not start or exited with a non-zero code (its stderr
    /// and stdout in the message).</exception>
    internal static string Run(string fileName, IEnumerable<string> arguments, string what)
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"{what}: {fileName} did not start.");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{what} failed (exit code {process.ExitCode}):\n{stderr.Result}{stdout.Result}");
        }

        return stdout.Result;
    }
}
