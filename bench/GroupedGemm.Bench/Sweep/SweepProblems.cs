using GroupedGemm.Bench.Model;

namespace GroupedGemm.Bench.Sweep;

/// <summary>
/// The sweep's problems: every (model, projection, tokens, routing) of <see cref="SweepModelFile"/>, with per-expert
/// row counts drawn from a seeded generator (the same on every machine and .NET version: <see cref="Random(int)"/>
/// with a seed is the legacy, platform-independent algorithm).
/// </summary>
internal static class SweepProblems
{
    /// <summary>The base seed of the routing draws.</summary>
    public const int Seed = 20261126;

    /// <summary>Token counts: decode (1 to 256 tokens) and training batches (4k to 64k tokens).</summary>
    public static readonly long[] Tokens = [1, 16, 256, 4096, 16384, 65536];

    /// <summary>Token counts up to this are decode rows (memory-bound; the HBM-floor figure applies).</summary>
    public const long DecodeTokens = 256;

    /// <summary>The routings, in report order.</summary>
    public static readonly string[] Routings = [Uniform, Zipf, Dominant, Empty];

    /// <summary>Each token picks top-k distinct experts, all equally likely.</summary>
    public const string Uniform = "uniform";

    /// <summary>Each token picks top-k distinct experts, expert e with weight 1/(e+1).</summary>
    public const string Zipf = "zipf";

    /// <summary>One expert holds <see cref="DominantShare"/> of the rows; the rest draw uniformly over the others.</summary>
    public const string Dominant = "dominant";

    /// <summary>Only max(top-k, E/4) experts (a seeded random subset) receive tokens; each token picks top-k of them.</summary>
    public const string Empty = "empty";

    /// <summary>The dominant expert's share of the rows.</summary>
    public const double DominantShare = 0.9;

    /// <summary>The projections: the gated up-projection (K = hidden, N = 2·expert) and the down-projection (K = expert, N = hidden).</summary>
    public static readonly string[] Projections = ["up", "down"];

    /// <summary>Every problem of every model, in model, projection, tokens, routing order.</summary>
    public static List<Problem> All(SweepModelFile models) =>
        models.Models.SelectMany(ForModel).ToList();

    /// <summary>The problems of one model.</summary>
    public static IEnumerable<Problem> ForModel(SweepModel model)
    {
        foreach (string projection in Projections)
            foreach (long tokens in Tokens)
                foreach (string routing in Routings)
                    yield return Make(model, projection, tokens, routing);
    }

    /// <summary>One problem, with its counts.</summary>
    public static Problem Make(SweepModel model, string projection, long tokens, string routing)
    {
        (long k, long n) = projection switch
        {
            "up" => ((long)model.Hidden, 2L * model.Expert),
            "down" => ((long)model.Expert, (long)model.Hidden),
            _ => throw new ArgumentException($"unknown projection '{projection}' (known: up, down).", nameof(projection)),
        };
        string config = $"{model.Name}/{projection}/t{tokens}";
        string id = $"{config}/{routing}";
        long[] counts = DrawCounts(model.Experts, model.TopK, tokens, routing, StableSeed(id));
        return new Problem(id, config, routing, tokens, model.TopK, model.Experts, tokens * model.TopK, k, n,
            counts.Max(), counts.Count(c => c == 0), counts)
        {
            Model = model.Name,
            Projection = projection,
        };
    }

    /// <summary>Rows per expert for <paramref name="tokens"/> tokens routed to top-<paramref name="topK"/> of <paramref name="experts"/>.</summary>
    public static long[] DrawCounts(int experts, int topK, long tokens, string routing, int seed)
    {
        var rng = new Random(seed);
        var counts = new long[experts];
        long rows = tokens * topK;
        switch (routing)
        {
            case Uniform:
                PerToken(rng, counts, Enumerable.Range(0, experts).ToArray(), Enumerable.Repeat(1.0, experts).ToArray(), tokens, topK);
                break;
            case Zipf:
                PerToken(rng, counts, Enumerable.Range(0, experts).ToArray(),
                    Enumerable.Range(0, experts).Select(e => 1.0 / (e + 1)).ToArray(), tokens, topK);
                break;
            case Empty:
            {
                int active = Math.Max(topK, experts / 4);
                int[] chosen = Enumerable.Range(0, experts).ToArray();
                rng.Shuffle(chosen);
                int[] subset = chosen.Take(active).Order().ToArray();
                PerToken(rng, counts, subset, Enumerable.Repeat(1.0, active).ToArray(), tokens, topK);
                break;
            }
            case Dominant:
            {
                int hot = experts / 3;
                long hotRows = (long)Math.Round(DominantShare * rows, MidpointRounding.AwayFromZero);
                counts[hot] = hotRows;
                for (long r = hotRows; r < rows; r++)
                {
                    int e = rng.Next(experts - 1);
                    counts[e >= hot ? e + 1 : e]++;
                }

                break;
            }
            default:
                throw new ArgumentException($"unknown routing '{routing}' (known: {string.Join(", ", Routings)}).", nameof(routing));
        }

        return counts;
    }

    /// <summary>Each token draws <paramref name="topK"/> distinct experts of <paramref name="candidates"/> by weight (as a router's top-k).</summary>
    private static void PerToken(Random rng, long[] counts, int[] candidates, double[] weights, long tokens, int topK)
    {
        var cumulative = new double[weights.Length];
        double total = 0;
        for (int i = 0; i < weights.Length; i++) cumulative[i] = total += weights[i];
        var picked = new int[topK];
        for (long t = 0; t < tokens; t++)
        {
            int have = 0;
            while (have < topK)
            {
                int i = Array.BinarySearch(cumulative, rng.NextDouble() * total);
                i = Math.Min(i < 0 ? ~i : i, weights.Length - 1);
                if (Array.IndexOf(picked, i, 0, have) >= 0) continue;  // a router never picks an expert twice per token
                picked[have++] = i;
            }

            for (int j = 0; j < topK; j++) counts[candidates[picked[j]]]++;
        }
    }

    /// <summary>FNV-1a of the id mixed with <see cref="Seed"/>: string.GetHashCode is randomised per process.</summary>
    public static int StableSeed(string id)
    {
        uint hash = 2166136261;
        foreach (char c in id)
        {
            hash ^= c;
            hash *= 16777619;
        }

        return (int)(hash ^ (uint)Seed) & int.MaxValue;
    }

    /// <summary>Whether a problem is a decode row (memory-bound).</summary>
    public static bool IsDecode(Problem p) => p.Tokens <= DecodeTokens;

    /// <summary>Experts that receive at least one row.</summary>
    public static long NonEmptyExperts(Problem p) => p.Counts.LongCount(c => c > 0);

    /// <summary>
    /// Bytes a call must move at least (each operand read once, the output written once), element size
    /// <paramref name="element"/>: forward and trans_b x[M,K] + w of the experts that have rows (E_nonempty·K·N) +
    /// y[M,N]; weight gradient x[M,K] + dy[M,N] + dW[E,K,N] (every expert's slot is written, zeros for an empty one).
    /// </summary>
    public static long BytesMoved(Problem p, string form, int element) =>
        element * (form == Reporting.Forms.WeightGrad
            ? (p.M * p.K) + (p.M * p.N) + (p.Experts * p.K * p.N)
            : (p.M * p.K) + (NonEmptyExperts(p) * p.K * p.N) + (p.M * p.N));
}
