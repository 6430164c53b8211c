using GroupedGemm.Bench.Model;
using GroupedGemm.Bench.Running;

namespace GroupedGemm.Bench.Sweep;

/// <summary>
/// The sweep's float64 sample check (<c>sweep verify</c>): each problem of a part's sample, shrunk by
/// <see cref="Verifier.ShrinkKeepingTails"/>, is run once with Auto and device-resident counts in each of the part's
/// forms and element types, and compared with the float64 CPU reference by the bench's <see cref="Verifier"/>.
/// </summary>
internal static class SweepVerifier
{
    /// <summary>Runs the checks; needs a CUDA device.</summary>
    public static List<VerifyResult> Run(SweepPlanFile plan, ProblemFile problems, int device, int seed, Action<string> say)
    {
        var byId = problems.Problems.ToDictionary(p => p.Id);
        var results = new List<VerifyResult>();
        using var context = new GroupedGemmContext(device);
        context.Reserve(problems.Problems.Max(p => (long)p.Experts));
        using CudaStream stream = CudaStream.Create(device);
        var rng = new Random(seed);
        foreach (string id in plan.VerifySample)
        {
            if (!byId.TryGetValue(id, out Problem? original))
                throw new InvalidDataException($"plan: verify_sample names '{id}', which the problem file lacks.");
            Problem problem = Verifier.ShrinkKeepingTails(original);
            foreach (string dtypeName in plan.Dtypes)
            {
                DType dtype = Names.ParseDType(dtypeName);
                foreach (string form in plan.Forms)
                {
                    using GroupWorkload w = GroupWorkload.Create(context, stream, problem, dtype, form, 1, rng);
                    GmmOptions options = w.Options(GemmBackend.Auto);
                    const string name = "auto (device counts)";
                    try
                    {
                        results.Add(Verifier.Check(w, name, () => w.RunGrouped(0, options, deviceCounts: true), stream));
                    }
                    catch (GroupedGemmException e)
                    {
                        results.Add(new VerifyResult(problem.Id, dtypeName, form, name, double.PositiveInfinity, Verifier.Bound(dtype), false));
                        say($"verify: {problem.Id} {dtypeName} {form} failed: {e.Message}");
                    }
                }
            }
        }

        return results;
    }
}
