using System;

namespace MorIcl.Construction.Model
{
    public enum Activation
    {
        /// <summary>h_i += (1/N) Σ_j ReLU(⟨Q h_i, K h_j⟩) V h_j (Bai et al. 2023; N counts every token).</summary>
        Relu,
        /// <summary>h_i += Σ_j softmax_j(⟨Q h_i, K h_j⟩) V h_j (computed with the maximum subtracted).</summary>
        Softmax,
        /// <summary>
        /// h_i += (1/N) Σ_j ⟨Q h_i, K h_j⟩ V h_j over all N tokens: linear self-attention (von Oswald et al.
        /// 2023; Zhang, Frei &amp; Bartlett 2023), the 1/N as for ReLU heads. It has no exactness domain
        /// other than finiteness, so a linear head must admit every (query role, key role) pair
        /// (<see cref="Admission.AdmitsAll"/>): its certificate margin is +∞ and its leakage 0.
        /// </summary>
        Linear,
    }

    /// <summary>Names of activations as written in model files, inspect output and generated code comments.</summary>
    public static class ActivationNames
    {
        /// <summary>"relu", "softmax" or "linear" (the model-file spelling).</summary>
        public static string Key(Activation a) => a switch
        {
            Activation.Relu => "relu",
            Activation.Softmax => "softmax",
            Activation.Linear => "linear",
            _ => throw new ArgumentOutOfRangeException(nameof(a), a, "unknown activation"),
        };

        /// <summary>"ReLU", "softmax" or "linear" (for prose).</summary>
        public static string Display(Activation a) => a == Activation.Relu ? "ReLU" : Key(a);

        /// <summary>The activation spelt <paramref name="key"/> ("relu", "softmax", "linear"), or null.</summary>
        public static Activation? Parse(string key) => key switch
        {
            "relu" => Activation.Relu,
            "softmax" => Activation.Softmax,
            "linear" => Activation.Linear,
            _ => (Activation?)null,
        };
    }

    /// <summary>What a layer's output means, for checking it against the reference algorithm.</summary>
    public enum DecodeKind
    {
        None,
        /// <summary>After this layer, rows gamma[k] of each example token hold γ_ik.</summary>
        Responsibilities,
        /// <summary>After this layer, row w of each example token holds w_i (symmetric program).</summary>
        SymmetricWeights,
        /// <summary>After this layer, blocks beta[k] hold the current b_k (an inner gradient step's result).</summary>
        Beta,
        /// <summary>After this layer, row prediction of the query token holds ŷ.</summary>
        Prediction,
    }

    /// <summary>Where a layer comes from: operator, EM iteration, inner step, the statement it realises.</summary>
    public sealed class Provenance
    {
        public string Operator { get; }
        /// <summary>Outer EM iteration s (1-based), or 0 outside the EM loop.</summary>
        public int EmIteration { get; }
        /// <summary>Inner gradient step t (1-based), or 0 outside the M-step.</summary>
        public int InnerStep { get; }
        public string Statement { get; }
        public string Description { get; }
        public DecodeKind Decode { get; }

        public Provenance(string op, int emIteration, int innerStep, string statement, string description, DecodeKind decode = DecodeKind.None)
        {
            Operator = op; EmIteration = emIteration; InnerStep = innerStep; Statement = statement; Description = description; Decode = decode;
        }
    }

    /// <summary>
    /// One attention head: score s_ij = ⟨Q h_i, K h_j⟩ summed over the head's dimensions in order —
    /// the first <see cref="PositionalDims"/> dimensions are positional (exact integers that cancel to
    /// 0 for admitted pairs) and are summed first, so content scores are added to an exact 0.
    /// </summary>
    public sealed class AttentionHead
    {
        public string Name { get; }
        public Activation Activation { get; }
        /// <summary>dk × D.</summary>
        public SparseMatrix Query { get; }
        /// <summary>dk × D.</summary>
        public SparseMatrix Key { get; }
        /// <summary>D × D.</summary>
        public SparseMatrix Value { get; }
        public int PositionalDims { get; }
        public Admission Admission { get; }
        /// <summary>What the head computes, e.g. "score = ⟨b, x_j⟩ − z_j; value writes −α·x_j into b".</summary>
        public string Description { get; }

        public AttentionHead(string name, Activation activation, SparseMatrix query, SparseMatrix key, SparseMatrix value, int positionalDims, Admission admission, string description)
        {
            if (query.Rows != key.Rows || query.Cols != key.Cols || value.Rows != value.Cols || value.Cols != query.Cols)
                throw new ArgumentException($"head {name}: inconsistent shapes Q {query.Rows}x{query.Cols}, K {key.Rows}x{key.Cols}, V {value.Rows}x{value.Cols}");
            if (activation == Activation.Linear && !admission.AdmitsAll)
                throw new ArgumentException($"head {name}: a linear head must admit every (query role, key role) pair — it has no margin or leakage to certify a restriction with");
            Name = name; Activation = activation; Query = query; Key = key; Value = value; PositionalDims = positionalDims; Admission = admission; Description = description;
        }

        public int HeadDimension => Query.Rows;
    }

    public abstract class Layer
    {
        public Provenance Provenance { get; }
        /// <summary>The layer's exactness domain or error bound, in words.</summary>
        public string Domain { get; }

        protected Layer(Provenance provenance, string domain) { Provenance = provenance; Domain = domain; }
    }

    public sealed class AttentionLayer : Layer
    {
        public AttentionHead[] Heads { get; }
        public AttentionLayer(AttentionHead[] heads, Provenance provenance, string domain) : base(provenance, domain) { Heads = heads; }
    }

    /// <summary>An approximate layer's input domain: row must stay in [Lo, Hi] on every token.</summary>
    public sealed class InputRange
    {
        public int Row { get; }
        public double Lo { get; }
        public double Hi { get; }
        public InputRange(int row, double lo, double hi) { Row = row; Lo = lo; Hi = hi; }
    }

    /// <summary>Token-wise h_i += W2 ReLU(W1 h_i + b1) + b2.</summary>
    public sealed class MlpLayer : Layer
    {
        /// <summary>H × D.</summary>
        public SparseMatrix W1 { get; }
        public double[] B1 { get; }
        /// <summary>D × H.</summary>
        public SparseMatrix W2 { get; }
        public double[] B2 { get; }

        /// <summary>Rows whose range the layer's declared error needs (empty for exact layers).</summary>
        public InputRange[] InputRanges { get; }
        /// <summary>The largest error the layer can add to any output inside its domain (0 when exact).</summary>
        public double DeclaredError { get; }

        public MlpLayer(SparseMatrix w1, double[] b1, SparseMatrix w2, double[] b2, Provenance provenance, string domain,
            InputRange[]? inputRanges = null, double declaredError = 0) : base(provenance, domain)
        {
            InputRanges = inputRanges ?? new InputRange[0];
            DeclaredError = declaredError;
            if (w1.Rows != b1.Length || w2.Cols != w1.Rows || w2.Rows != b2.Length || w1.Cols != w2.Rows)
                throw new ArgumentException($"MLP shapes inconsistent: W1 {w1.Rows}x{w1.Cols}, b1 {b1.Length}, W2 {w2.Rows}x{w2.Cols}, b2 {b2.Length}");
            W1 = w1; B1 = b1; W2 = w2; B2 = b2;
        }

        public int Hidden => W1.Rows;
    }
}
