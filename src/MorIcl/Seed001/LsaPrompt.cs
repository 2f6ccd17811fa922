using MorIcl.Mixture;

namespace MorIcl.Seed001;

/// <summary>
/// One prompt of <see cref="LsaDistribution"/>: the examples, query and query label as a <see cref="Prompt"/>
/// (component 0 ↔ sign z = +1, component 1 ↔ z = −1), the prompt's own regression vector β, and the statistic
/// h = (1/n) Σ_i y_i x_i through which the LSA layer sees the examples.
/// </summary>
public sealed class LsaPrompt
{
    public Prompt Data { get; }
    /// <summary>The prompt's regression vector β ~ N(0, c·I_d) (hidden from the layer).</summary>
    public double[] Beta { get; }
    /// <summary>h = (1/n) Σ_i y_i x_i.</summary>
    public double[] H { get; }

    public LsaPrompt(Prompt data, double[] beta)
    {
        if (beta.Length != data.D) throw new SpecificationException($"beta has {beta.Length} entries, expected d = {data.D}");
        Data = data; Beta = beta;
        int n = data.N, d = data.D;
        var h = new double[d];
        var y = data.Examples.Y;
        for (int a = 0; a < d; a++)
        {
            var col = data.Examples.Column(a);
            double s = 0;
            for (int i = 0; i < n; i++) s += y[i] * col[i];
            h[a] = s / n;
        }
        H = h;
    }

    public int N => Data.N;
    public int D => Data.D;
    public double[] Query => Data.Query;
    public double QueryLabel => Data.QueryLabel;

    /// <summary>The sign z_i of example i (0 ≤ i &lt; n), or of the query (i = n).</summary>
    public int Sign(int i) => Data.Components[i] == 0 ? 1 : -1;
}
