using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Mixture;
using MorIcl.Numerics;
using MorIcl.Runtime;
using MorIcl.Runtime.Structured;

namespace MorIcl.Tests.Structured;

/// <summary>
/// docs/math.md §9.6: the structured commits. A role-constant update is kept per role until the commit; a
/// kernel commits the examples of a row that only it writes and no head of its layer reads. Layers edited
/// so that these rules meet their exceptions — a per-role update of a row that is not role-constant, a
/// per-token head writing the same row before or after a per-role one, a head of the layer reading the
/// rows a gradient head writes — must still equal the dense executor.
/// </summary>
public class StructuredCommitTests
{
    [Fact]
    public void EditedLayersWhoseUpdatesMixEqualDense()
    {
        var spec = new ConstructionSpec(3, 2, 0.5, null, 2, 2, 0.5);
        var model = Compiler.Compile(spec);
        var prompt = PromptSampler.Sample(new MixtureSpec(RegressionVectors.DrawNormalised(3, 2, SeedSequence.Create(9)), new[] { 0.5, 0.5 }, 0.5), 40, 9, 0);
        var names = model.Layout.RowNames();
        int Row(string name) => Array.IndexOf(names, name);
        int stepLayer = model.Layers.ToList().FindIndex(l => l is AttentionLayer a && a.Provenance.Operator == "gd_step" && a.Heads[0].Activation == Activation.Softmax);
        int gradLayer = stepLayer - 1;
        var step = ((AttentionLayer)model.Layers[stepLayer]).Heads[0];
        var grad = ((AttentionLayer)model.Layers[gradLayer]).Heads;
        // The step head with its query reading x_0 (per token): same keys and output rows, per-token updates.
        var perToken = new AttentionHead("step-x", step.Activation, Remap(step.Query, Row("one"), Row("x[0]"), columns: true), step.Key, step.Value,
            step.PositionalDims, step.Admission, "step head, query x_0");
        // The step head writing x rows instead of β_0 (a per-role update of rows that differ between examples).
        var intoX = new AttentionHead("step-into-x", step.Activation, step.Query, step.Key,
            Enumerable.Range(0, 3).Aggregate(step.Value, (v, a) => Remap(v, Row($"beta0[{a}]"), Row($"x[{a}]"), columns: false)),
            step.PositionalDims, step.Admission, "step head into x");
        var variants = new (int Layer, AttentionHead[] Heads, string Name)[]
        {
            (stepLayer, new[] { step, perToken }, "per role, then per token"),
            (stepLayer, new[] { perToken, step }, "per token, then per role"),
            (stepLayer, new[] { intoX }, "per role into a per-token row"),
            (gradLayer, grad.Append(step).ToArray(), "a head reading the gradient rows"),
        };
        foreach (var (layer, heads, name) in variants)
        {
            var layers = model.Layers.ToList();
            var old = (AttentionLayer)layers[layer];
            layers[layer] = new AttentionLayer(heads, old.Provenance, old.Domain);
            var edited = new TransformerModel(model.Spec, model.Layout, model.Embedding, layers, model.ReadOut, model.Margin);
            var structured = new ModelExecutor<double>(edited);
            var dense = new ModelExecutor<double>(edited, ExecutorKind.Dense);
            Assert.True(Enumerable.Range(0, heads.Length).All(h => structured.RunsStructured(layer, h)), $"{name}: every head structured");
            var before = dense.Forward(prompt.Examples, prompt.Query, trace: true).Trace![layer];
            var (a, _) = structured.ForwardLayer(layer, before, prompt.N);
            var (b, _) = dense.ForwardLayer(layer, before, prompt.N);
            double err = StructuredEqualsDenseTests.Relative(a, b);
            Assert.True(err <= 1e-15, $"{name}: the layer differs from dense by {err:G3}");
            // And the whole pass, which starts from the embedding directly (no trace).
            double p = structured.Forward(prompt.Examples, prompt.Query).Prediction, q = dense.Forward(prompt.Examples, prompt.Query).Prediction;
            Assert.True(Math.Abs(p - q) <= 1e-12 * Math.Max(1, Math.Abs(q)) || (double.IsNaN(p) && double.IsNaN(q)), $"{name}: prediction {p:R} vs dense {q:R}");
        }
    }

    [Fact]
    public void AnMlpRowReadByAnotherOutputIsNotCommittedInPlace()
    {
        // A linear pair u = ±x_0 with outputs x_0 ← x_0 − u (a reset) and x_1 ← x_1 + u: the reset row is read, through
        // its unit, by the other output, so it may not be committed before that output is formed (docs/math.md §9.6).
        var model = Compiler.Compile(new ConstructionSpec(3, 2, 0.5, null, 1, 1, 0.5));
        var prompt = PromptSampler.Sample(new MixtureSpec(RegressionVectors.DrawNormalised(3, 2, SeedSequence.Create(3)), new[] { 0.5, 0.5 }, 0.5), 30, 3, 0);
        var names = model.Layout.RowNames();
        int x0 = Array.IndexOf(names, "x[0]"), x1 = Array.IndexOf(names, "x[1]"), D = model.Dimension;
        var w1 = new SparseMatrix(2, D, new[] { 0, 1 }, new[] { x0, x0 }, new[] { 1.0, -1.0 });
        var (rows, cols, values) = x0 < x1
            ? (new[] { x0, x0, x1, x1 }, new[] { 0, 1, 0, 1 }, new[] { -1.0, 1.0, 1.0, -1.0 })
            : (new[] { x1, x1, x0, x0 }, new[] { 0, 1, 0, 1 }, new[] { 1.0, -1.0, -1.0, 1.0 });
        var w2 = new SparseMatrix(D, 2, rows, cols, values);
        var mlp = new MlpLayer(w1, new double[2], w2, new double[D], new Provenance("affine", 0, 0, "test", "reset x_0 into x_1"), "exact");
        var edited = new TransformerModel(model.Spec, model.Layout, model.Embedding, model.Layers.Append(mlp).ToList(), model.ReadOut, model.Margin);
        int last = edited.Layers.Count - 1;
        var dense = new ModelExecutor<double>(edited, ExecutorKind.Dense);
        var before = dense.Forward(prompt.Examples, prompt.Query, trace: true).Trace![last];
        var (a, _) = new ModelExecutor<double>(edited).ForwardLayer(last, before, prompt.N);
        var (b, _) = dense.ForwardLayer(last, before, prompt.N);
        Assert.Equal(b.Select(BitConverter.DoubleToInt64Bits), a.Select(BitConverter.DoubleToInt64Bits));
        Assert.Equal(before[x1] + (0 + before[x0]), a[x1]);   // token 0: x_1 + x_0, read before the reset
        Assert.Equal(0.0, a[x0]);
    }

    /// <summary>The matrix with column (or row) <paramref name="from"/> renamed <paramref name="to"/>.</summary>
    private static SparseMatrix Remap(SparseMatrix m, int from, int to, bool columns)
    {
        int Map(int i) => i == from ? to : i;
        var entries = Enumerable.Range(0, m.NonZeros)
            .Select(e => (Row: columns ? m.RowIndex[e] : Map(m.RowIndex[e]), Col: columns ? Map(m.ColIndex[e]) : m.ColIndex[e], m.Values[e]))
            .OrderBy(e => e.Row).ThenBy(e => e.Col).ToArray();
        return new(m.Rows, m.Cols, entries.Select(e => e.Row).ToArray(), entries.Select(e => e.Col).ToArray(), entries.Select(e => e.Item3).ToArray());
    }
}
