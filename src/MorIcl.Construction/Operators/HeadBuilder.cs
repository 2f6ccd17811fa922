using System.Collections.Generic;
using System.Linq;
using MorIcl.Construction.Model;

namespace MorIcl.Construction.Operators
{
    /// <summary>
    /// Assembles one attention head dimension by dimension: each dimension contributes
    /// (Σ q-terms of h_i)·(Σ k-terms of h_j) to the score. Positional dimensions (exact integers)
    /// come first, content dimensions after.
    /// </summary>
    internal sealed class HeadBuilder
    {
        private readonly LoweringContext _ctx;
        private readonly List<(Term[] Q, Term[] K)> _positional = new List<(Term[], Term[])>();
        private readonly List<(Term[] Q, Term[] K)> _content = new List<(Term[], Term[])>();
        private readonly SparseMatrix.Builder _value;

        public HeadBuilder(LoweringContext ctx)
        {
            _ctx = ctx;
            _value = new SparseMatrix.Builder(ctx.D, ctx.D);
        }

        public HeadBuilder Positional(Term[] q, Term[] k) { _positional.Add((q, k)); return this; }
        public HeadBuilder Content(Term[] q, Term[] k) { _content.Add((q, k)); return this; }
        public HeadBuilder Content(Term q, Term k) => Content(new[] { q }, new[] { k });

        /// <summary>Value: out_i[outRow] gathers coefficient·h_j[inRow].</summary>
        public HeadBuilder Value(int outRow, int inRow, double coefficient = 1) { _value.Add(outRow, inRow, coefficient); return this; }

        /// <summary>
        /// −R Σ_d (p_d(i) − p_d(j))² for pairs of positioned tokens, 0 when either is unpositioned:
        /// per digit, (−R p_d²(i))·o_j + (2R p_d(i))·p_d(j) + (−R o_i)·p_d²(j). Exact integers; 0 for j = i.
        /// </summary>
        public HeadBuilder RestrictToSelf()
        {
            var e = _ctx.Embedding; double r = _ctx.Margin;
            for (int d = 0; d < e.Digits; d++)
            {
                Positional(new[] { Term.Of(e.PositionDigitSquares[d], -r) }, new[] { Term.Of(e.Positioned.Row) });
                Positional(new[] { Term.Of(e.PositionDigits[d], 2 * r) }, new[] { Term.Of(e.PositionDigits[d]) });
                Positional(new[] { Term.Of(e.Positioned.Row, -r) }, new[] { Term.Of(e.PositionDigitSquares[d]) });
            }
            return this;
        }

        /// <summary>−R·(1 − o_i): pushes every score of an unpositioned (auxiliary) query below zero.</summary>
        public HeadBuilder ExcludeAuxiliaryQueries() =>
            Positional(new[] { Term.Of(_ctx.Embedding.One.Row, -_ctx.Margin), Term.Of(_ctx.Embedding.Positioned.Row, _ctx.Margin) }, new[] { Term.Of(_ctx.Embedding.One.Row) });

        /// <summary>−R·(1 − o_j): pushes the score of every unpositioned (auxiliary) key below zero.</summary>
        public HeadBuilder ExcludeAuxiliaryKeys() =>
            Positional(new[] { Term.Of(_ctx.Embedding.One.Row, -_ctx.Margin) }, new[] { Term.Of(_ctx.Embedding.One.Row), Term.Of(_ctx.Embedding.Positioned.Row, -1) });

        public AttentionHead Build(string name, Activation activation, Admission admission, string description)
        {
            var dims = _positional.Concat(_content).ToList();
            var q = new SparseMatrix.Builder(dims.Count, _ctx.D);
            var k = new SparseMatrix.Builder(dims.Count, _ctx.D);
            for (int a = 0; a < dims.Count; a++)
            {
                foreach (var t in dims[a].Q) q.Add(a, t.Row, t.Coefficient);
                foreach (var t in dims[a].K) k.Add(a, t.Row, t.Coefficient);
            }
            return new AttentionHead(name, activation, q.Build(), k.Build(), _value.Build(), _positional.Count, admission, description);
        }
    }

    /// <summary>
    /// Assembles a token-wise ReLU MLP from exact pieces: a linear read-out L(h) written into a row
    /// uses the pair ReLU(L) − ReLU(−L) = L (docs/math.md §3, "per-token affine maps"); constants go in b2.
    /// </summary>
    internal sealed class MlpBuilder
    {
        private readonly LoweringContext _ctx;
        private readonly List<(Term[] Read, int Out, double Sign, double Bias)> _units = new List<(Term[], int, double, double)>();
        private readonly List<InputRange> _ranges = new List<InputRange>();
        private readonly double[] _b2;
        private double _declaredError;

        public MlpBuilder(LoweringContext ctx) { _ctx = ctx; _b2 = new double[ctx.D]; }

        /// <summary>h[outRow] += Σ terms (read from the layer's input).</summary>
        public MlpBuilder AddLinear(int outRow, params Term[] terms)
        {
            if (terms.Length == 0) return this;
            _units.Add((terms, outRow, 1, 0));
            _units.Add((terms.Select(t => Term.Of(t.Row, -t.Coefficient)).ToArray(), outRow, -1, 0));
            return this;
        }

        /// <summary>h[outRow] += weight·ReLU(Σ terms + bias): one unit (for approximate operators).</summary>
        public MlpBuilder AddRelu(int outRow, Term[] terms, double bias, double weight)
        {
            _units.Add((terms, outRow, weight, bias));
            return this;
        }

        /// <summary>Declares that the layer's error bound holds only while h[row] ∈ [lo, hi] on every token.</summary>
        public MlpBuilder RequireRange(int row, double lo, double hi, double declaredError)
        {
            _ranges.Add(new InputRange(row, lo, hi));
            _declaredError = System.Math.Max(_declaredError, declaredError);
            return this;
        }

        /// <summary>h[row] ← 0 (adds −h[row]).</summary>
        public MlpBuilder Clear(int row) => AddLinear(row, Term.Of(row, -1));

        public MlpBuilder Clear(LayoutBlock block)
        {
            for (int a = 0; a < block.Width; a++) Clear(block[a]);
            return this;
        }

        /// <summary>h[row] += c on every token.</summary>
        public MlpBuilder AddConstant(int row, double c) { _b2[row] += c; return this; }

        public MlpLayer Build(Provenance provenance, string domain)
        {
            int h = _units.Count;
            var w1 = new SparseMatrix.Builder(h, _ctx.D);
            var w2 = new SparseMatrix.Builder(_ctx.D, h);
            var b1 = new double[h];
            for (int u = 0; u < h; u++)
            {
                foreach (var t in _units[u].Read) w1.Add(u, t.Row, t.Coefficient);
                w2.Add(_units[u].Out, u, _units[u].Sign);
                b1[u] = _units[u].Bias;
            }
            return new MlpLayer(w1.Build(), b1, w2.Build(), (double[])_b2.Clone(), provenance, domain, _ranges.ToArray(), _declaredError);
        }
    }
}
