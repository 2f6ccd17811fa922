using MathNet.Numerics.LinearAlgebra;
using MorIcl.Numerics;

namespace MorIcl.Seed001;

/// <summary>
/// One linear self-attention layer in the reduced parametrisation of Zhang, Frei and Bartlett
/// (<i>Trained transformers learn linear models in-context</i>, 2023; JMLR 25, 2024, §3 and §5.1).
/// <para>
/// The prompt is embedded as E = [[x_1 … x_n, x_q], [y_1 … y_n, 0]] ∈ R^{(d+1)×(n+1)} and the layer is
/// f(E) = E + W^{PV} E · (Eᵀ W^{KQ} E)/n; the prediction is the bottom-right entry. With the value/projection
/// weight zero except its label-row entry p = W^{PV}_{d+1,d+1} and the key-query weight zero except its feature
/// block Q = W^{KQ}_{1:d,1:d} (Zhang et al. show the other blocks, zero at their initialisation, stay zero under
/// gradient flow), the bottom-right entry is p · (1/n) Σ_{i ≤ n+1} y_i x_iᵀ Q x_q; the query token's label slot
/// is 0, so the sum runs over the n examples and
/// </para>
/// <para>ŷ = p · hᵀ Q x_q, h := (1/n) Σ_{i=1}^n y_i x_i.</para>
/// <para>
/// ŷ depends on (p, Q) only through Γ := p·Q (ŷ = hᵀ Γ x_q), so the population loss is a function of Γ alone
/// (<see cref="LsaPopulationLoss"/>) and (p, Q) is a two-factor (non-convex) parametrisation of a convex problem.
/// </para>
/// </summary>
public sealed class LsaLayer
{
    /// <summary>Value weight p on the label row.</summary>
    public double P { get; }
    /// <summary>Key-query block Q ∈ R^{d×d}.</summary>
    public Matrix<double> Q { get; }

    public LsaLayer(double p, Matrix<double> q)
    {
        if (q.RowCount != q.ColumnCount) throw new SpecificationException($"Q must be square, got {q.RowCount}×{q.ColumnCount}");
        if (!double.IsFinite(p)) throw new NumericalException($"the value weight p is {p}, not a finite number");
        P = p; Q = q.Clone();
    }

    public int D => Q.RowCount;

    /// <summary>Γ = p·Q, the product the prediction and the loss depend on.</summary>
    public Matrix<double> Gamma => Q * P;

    /// <summary>p² − ‖Q‖_F², conserved by gradient flow on any loss of the form f(p·Q) (see <see cref="LsaGradientDescent"/>).</summary>
    public double Imbalance => P * P - SquaredFrobenius(Q);

    /// <summary>ŷ = p · hᵀ Q x_q.</summary>
    public double Predict(LsaPrompt prompt) => P * Bilinear(prompt.H, Q, prompt.Query);

    /// <summary>ŷ = hᵀ Γ x_q for a product matrix Γ.</summary>
    public static double Predict(Matrix<double> gamma, LsaPrompt prompt) => Bilinear(prompt.H, gamma, prompt.Query);

    /// <summary>
    /// The initialisation of the training runs: Θ a d×d matrix of independent N(0, 1) entries drawn from
    /// <see cref="SeedSequence.Create(int, long, int)"/>(seed, 0, salt "LSAI") row by row, Q(0) = εΘ and
    /// p(0) = ε‖Θ‖_F. It is balanced, p(0)² − ‖Q(0)‖_F² = 0, as Zhang et al.'s (value block σ, key-query block
    /// σΘΘᵀ with ‖ΘΘᵀ‖_F = 1); here Θ need not be positive semi-definite. p(0) &gt; 0 and |tr Θ| ≤ √d‖Θ‖_F make the
    /// growing direction of the linearised flow at 0 (p + tr Q/√d) start positive unless Θ is a negative multiple
    /// of I (probability 0).
    /// </summary>
    public static LsaLayer BalancedInitialisation(int d, double epsilon, int seed)
    {
        if (d < 1) throw new SpecificationException($"the dimension d must be at least 1, got {d}");
        if (!double.IsFinite(epsilon) || epsilon <= 0) throw new SpecificationException($"the initialisation scale ε must be a finite number > 0, got {epsilon}");
        var rng = SeedSequence.Create(seed, 0, 0x4C534149);
        var theta = Matrix<double>.Build.Dense(d, d);
        for (int a = 0; a < d; a++)
            for (int b = 0; b < d; b++)
                theta[a, b] = MathNet.Numerics.Distributions.Normal.Sample(rng, 0.0, 1.0);
        return new LsaLayer(epsilon * theta.FrobeniusNorm(), theta * epsilon);
    }

    internal static double Bilinear(double[] u, Matrix<double> a, double[] v)
    {
        double s = 0;
        for (int i = 0; i < u.Length; i++)
        {
            double r = 0;
            for (int j = 0; j < v.Length; j++) r += a.At(i, j) * v[j];
            s += u[i] * r;
        }
        return s;
    }

    internal static double SquaredFrobenius(Matrix<double> a)
    {
        double s = 0;
        foreach (var v in a.Enumerate()) s += v * v;
        return s;
    }
}
