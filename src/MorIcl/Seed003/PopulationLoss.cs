using MathNet.Numerics.LinearAlgebra;

namespace MorIcl.Seed003;

/// <summary>
/// The population loss of seed 003 eq. (9), L(θ) = ½ E_{λ,ε}[(1/K) Σ_k (ŷ_k − y_k)²], in closed form.
///
/// Derivation (Assumption 1: E λλᵀ = I_m, λ independent of ε). With a_k = Â_{:,k} and
/// ŷ_k − y_k = λᵀ[Σ_i a_ik (z_i + ε_i) − (ẑ_k + ε_k)]: for k ≤ N the label noise ε_k is the prompt's own,
/// so the noise part is Σ_i (a_ik − δ_ik) ε_i; for k &gt; N it is Σ_i a_ik ε_i − ε_k with ε_k independent.
/// E[(λᵀu)²] = ‖u‖² and E[(λᵀ Σ_i c_i ε_i)²] = τ E‖λ‖² ‖c‖² = mτ‖c‖², cross terms vanish, so
///   L = (1/2K) Σ_k [ ‖Z a_k − ẑ_k‖² + mτ ‖a_k − ē_k‖² + mτ·1{k &gt; N} ],   ē_k = e_k (k ≤ N), 0 (k &gt; N).
/// Completing the square with M = ZᵀZ + mτ I_N = Z̄²:  L = (1/2K) Σ_k ‖Z̄ (a_k − A_{:,k})‖² + L*, with
/// A = M⁻¹(ZᵀẐ + (mτ I_N, 0)) (§3.3, eq. (34)) and L* the value at a_k = A_{:,k} (Lemma 5, eq. (36)).
/// L* is the infimum over θ when every a_k can reach A_{:,k}, e.g. when some C_k has full row rank.
/// Note: seed 003's printed L* omits the irreducible mτ/(2K) per unseen token (k &gt; N) that the noisy
/// targets of eq. (1) carry; it is a constant, so nothing about θ changes. Here L* includes it, and the
/// closed form is tested against Monte Carlo with eq. (1)'s noisy labels.
/// </summary>
public sealed class PopulationLoss
{
    public RepresentationTask Task { get; }
    /// <summary>M = ZᵀZ + mτ I_N.</summary>
    public Matrix<double> Gram { get; }
    /// <summary>Z̄ = M^{1/2} (eq. (12)).</summary>
    public Matrix<double> ZBar { get; }
    /// <summary>A (N×K), eq. (34): the minimiser of every column's quadratic.</summary>
    public Matrix<double> A { get; }
    /// <summary>inf_θ L (when reachable): L at Â = A.</summary>
    public double Infimum { get; }
    /// <summary>λ_min(M) ≥ mτ.</summary>
    public double GramMinEigenvalue { get; }

    public PopulationLoss(RepresentationTask task)
    {
        Task = task;
        int N = task.N, K = task.K, m = task.M;
        double mt = m * task.Tau;
        var z = Matrix<double>.Build.Dense(m, K, (i, k) => task.Features[k][i]);
        var zp = z.SubMatrix(0, m, 0, N);
        Gram = zp.TransposeThisAndMultiply(zp) + mt * Matrix<double>.Build.DenseIdentity(N);
        var evd = Gram.Evd(Symmetricity.Symmetric);
        GramMinEigenvalue = evd.EigenValues.Real().Minimum();
        ZBar = evd.EigenVectors * Matrix<double>.Build.DenseOfDiagonalArray(evd.EigenValues.Real().Select(Math.Sqrt).ToArray()) * evd.EigenVectors.Transpose();
        var rhs = zp.TransposeThisAndMultiply(z);
        for (int k = 0; k < N; k++) rhs[k, k] += mt;
        A = Gram.Cholesky().Solve(rhs);
        var zero = new double[K][];
        for (int k = 0; k < K; k++) zero[k] = A.Column(k).ToArray();
        Infimum = Direct(zero);
    }

    /// <summary>L by the un-squared form (1/2K) Σ_k [‖Z a_k − ẑ_k‖² + mτ‖a_k − ē_k‖² + mτ·1{k &gt; N}].</summary>
    public double Direct(double[][] a)
    {
        var t = Task;
        double mt = t.M * t.Tau, sum = 0;
        for (int k = 0; k < t.K; k++)
        {
            for (int r = 0; r < t.M; r++)
            {
                double u = -t.Features[k][r];
                for (int i = 0; i < t.N; i++) u += t.Features[i][r] * a[k][i];
                sum += u * u;
            }
            for (int i = 0; i < t.N; i++) { double c = a[k][i] - (i == k ? 1 : 0); sum += mt * c * c; }
            if (k >= t.N) sum += mt;
        }
        return sum / (2 * t.K);
    }

    /// <summary>L = (1/2K) Σ_k (a_k − A_k)ᵀ M (a_k − A_k) + L* (Lemma 5), and G = ∂L/∂Â = (1/K) M (a_k − A_k).</summary>
    public double Evaluate(double[][] a, out double[][] gradient) => Quadratic(a, out gradient) + Infimum;

    public double Evaluate(double[][] a) => Evaluate(a, out _);

    /// <summary>L − inf L = (1/2K) Σ_k (a_k − A_k)ᵀ M (a_k − A_k), computed directly (no cancellation against L*).</summary>
    public double Gap(double[][] a) => Quadratic(a, out _);

    private double Quadratic(double[][] a, out double[][] gradient)
    {
        var t = Task;
        int N = t.N;
        double sum = 0;
        gradient = new double[t.K][];
        var diff = new double[N];
        for (int k = 0; k < t.K; k++)
        {
            for (int i = 0; i < N; i++) diff[i] = a[k][i] - A[i, k];
            var g = new double[N];
            for (int i = 0; i < N; i++)
            {
                double v = 0;
                for (int j = 0; j < N; j++) v += Gram[i, j] * diff[j];
                g[i] = v / t.K;
                sum += diff[i] * v;
            }
            gradient[k] = g;
        }
        return sum / (2 * t.K);
    }

    /// <summary>L(θ) and ∂L/∂θ for a model.</summary>
    public double Evaluate(SoftmaxAttentionModel model, out double[] gradient)
    {
        var s = model.AttentionWeights();
        double loss = Evaluate(model.EffectiveWeights(s), out var g);
        gradient = model.Backward(s, g);
        return loss;
    }

    /// <summary>
    /// The empirical version of eq. (9) on sampled prompts, ½ (1/B) Σ_b (1/K) Σ_k (ŷ_bk − y_bk)², and its
    /// gradient in Â: G_k = (1/(B K)) Σ_b (ŷ_bk − y_bk) y_b (what Adam trains on, seed 003 §4).
    /// </summary>
    public static double Empirical(double[][] a, IReadOnlyList<RepresentationPrompt> prompts, out double[][] gradient)
    {
        int K = a.Length, N = a[0].Length, B = prompts.Count;
        gradient = Enumerable.Range(0, K).Select(_ => new double[N]).ToArray();
        double sum = 0;
        foreach (var p in prompts)
        {
            for (int k = 0; k < K; k++)
            {
                double r = MorIcl.Numerics.Simd.SimdSpan.Dot<double>(a[k], p.Labels) - p.AllLabels[k];
                sum += r * r;
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(p.Labels, r / ((double)B * K), gradient[k], gradient[k]);
            }
        }
        return sum / (2.0 * B * K);
    }
}
