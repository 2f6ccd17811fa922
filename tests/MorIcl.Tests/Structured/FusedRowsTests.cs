using System.Numerics;
using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Mixture;
using MorIcl.Numerics;
using MorIcl.Numerics.Simd;
using MorIcl.Runtime;
using MorIcl.Runtime.Structured;
using Xunit.Sdk;

namespace MorIcl.Tests.Structured;

/// <summary>
/// docs/math.md §9.6, fused rows: a head's per-token content dimensions in one pass, its committed value rows in one
/// pass with the next layer's example sums formed on the way (block by block), and resets of finite rows kept per role.
/// Each gives the bits of the row-by-row passes: ŷ, β̂, π̂, the final stream and every layer's certificate, on random
/// specifications in float and double, with prompts whose sums take one block, several, and a remainder shorter than the
/// lanes. A comparison that never ran a shortcut would prove nothing, so each test checks that every shortcut ran; a
/// deliberately wrong sum (one unit in the last place) must be caught.
/// </summary>
public class FusedRowsTests
{
    private static ModelExecutor<T> Plain<T>(TransformerModel model) where T : unmanaged, IFloatingPointIeee754<T> => new(model) { FusedRows = false };

    private static Prompt Sample(ConstructionSpec spec, int n, int seed) =>
        PromptSampler.Sample(new MixtureSpec(RegressionVectors.DrawNormalised(spec.Dimension, spec.Components, SeedSequence.Create(seed)),
            Enumerable.Repeat(1.0 / spec.Components, spec.Components).ToArray(), spec.Sigma), n, seed, 3);

    private static void AssertEveryShortcutRan(FusedRowCounts c, string name, bool reset = true)
    {
        Assert.True(c.Scores > 0 && c.Commits > 0 && c.SumsAhead > 0 && c.SumsUsed > 0 && c.ScoresInOrder > 0 && c.MaximaKnown > 0 && c.SummedOnly > 0,
            $"{name}: shortcuts ran {c.Scores}/{c.Commits}/{c.SumsAhead}/{c.SumsUsed}/{c.ScoresInOrder}/{c.MaximaKnown}/{c.SummedOnly}");
        if (reset) Assert.True(c.Resets > 0 && c.OnConstant > 0 && c.QuotientOnConstant > 0,
            $"{name}: no reset was kept per role ({c.Resets}) or committed onto ({c.OnConstant}, E-step {c.QuotientOnConstant})");
        // The E-step gates of a layer meet the same rows ℓ_ic − m_i (K ≥ 2 gates, each with K slots).
        Assert.True(c.ExpRowsRemembered > 0, $"{name}: no row of e^x was remembered");
        // The example means of a gradient step, one head per component (K ≥ 2), share their weights.
        Assert.True(c.WeightsShared > 0, $"{name}: no mean head took another's weights");
    }

    [Fact]
    public void FusedRowsGiveTheBitsOfOnePassPerRowOnRandomSpecs()
    {
        bool symmetric = false, estimated = false;
        foreach (int seed in new[] { 1, 2, 5, 6, 7 })   // d from 2 to 20, K from 2 to 5, symmetric, estimated π
        {
            var (spec, prompt, name) = StructuredEqualsDenseTests.Case(seed);
            symmetric |= spec.Symmetric; estimated |= spec.EstimateMixing;
            var model = Compiler.Compile(spec);
            var d = new ModelExecutor<double>(model);
            var f = new ModelExecutor<float>(model);
            BlockScheduleTests.AssertSameBits(d, Plain<double>(model), prompt, $"{name}, double");
            BlockScheduleTests.AssertSameBits(f, Plain<float>(model), prompt, $"{name}, float");
            if (!spec.Symmetric) { AssertEveryShortcutRan(d.Counts, name); AssertEveryShortcutRan(f.Counts, name); }
        }
        Assert.True(symmetric && estimated, "the cases include symmetric and estimated mixing");
    }

    [Theory]
    [InlineData(2051)]   // one block: the remainder past 2 048 is shorter than the lanes and joins it
    [InlineData(4100)]   // two blocks, the second holding the short remainder
    [InlineData(4116)]   // three blocks, the last one 20 tokens
    public void SumsFormedBlockByBlockHaveTheBitsOfOneSum(int n)
    {
        var spec = new ConstructionSpec(3, 2, 0.5, new[] { 0.4, 0.6 }, 2, 2, 0.5, maxPromptLength: 5000);
        var model = Compiler.Compile(spec);
        var prompt = Sample(spec, n, 17);
        var d = new ModelExecutor<double>(model);
        var f = new ModelExecutor<float>(model);
        BlockScheduleTests.AssertSameBits(d, Plain<double>(model), prompt, $"n = {n}, double");
        BlockScheduleTests.AssertSameBits(f, Plain<float>(model), prompt, $"n = {n}, float");
        AssertEveryShortcutRan(d.Counts, $"n = {n}");
    }

    [Fact]
    public void NonFiniteRowsAreResetByTheirPassAndKeepTheirBits()
    {
        // x of 1e200: u², N·x and the gradient terms overflow to ±∞ and NaN; a reset of such a row is NaN, not +0. From 1e150
        // (double) and 1e15 (float) on, the numbers come near the largest one and the bounds send heads to the dense path.
        var spec = new ConstructionSpec(3, 2, 0.5, new[] { 0.4, 0.6 }, 2, 2, 0.5);
        var model = Compiler.Compile(spec);
        var p = Sample(spec, 40, 23);
        Prompt Scaled(double s) => new(new RegressionData(p.N, p.D, p.Examples.Columns.Select(v => v * s).ToArray(), p.Examples.Y.ToArray()), p.Query, p.QueryLabel, p.Components);
        foreach (double scale in new[] { 1e150, 1e152, 1e153, 1e154, 1e155, 1e200 })
            BlockScheduleTests.AssertSameBits(new ModelExecutor<double>(model), Plain<double>(model), Scaled(scale), $"x · {scale:R}, double");
        foreach (double scale in new[] { 1e15, 1e17, 1e18, 1e19, 1e25 })
            BlockScheduleTests.AssertSameBits(new ModelExecutor<float>(model), Plain<float>(model), Scaled(scale), $"x · {scale:R}, float");
        Assert.False(new ModelExecutor<double>(model).Forward(Scaled(1e200).Examples, p.Query).Certificate.InDomain);
    }

    [Fact]
    public void AWrongSumFormedAheadIsCaught()
    {
        // The mutant: every example sum formed ahead one unit in the last place off. The comparison must fail.
        var (spec, prompt, name) = StructuredEqualsDenseTests.Case(2);
        var model = Compiler.Compile(spec);
        var wrong = new ModelExecutor<double>(model) { PerturbSumsAhead = true };
        Assert.ThrowsAny<XunitException>(() => BlockScheduleTests.AssertSameBits(wrong, Plain<double>(model), prompt, name));
        Assert.True(wrong.Counts.SumsUsed > 0);
    }

    /// <summary>The ways a row summed only comes to be read before its reset, each forced by a test switch.</summary>
    public static IEnumerable<object[]> Readers => new[] { "none", "sums refused", "means dense", "sums not finite", "resets read" }.Select(r => new object[] { r });

    private static ModelExecutor<T> Forcing<T>(TransformerModel model, string reader, bool skipWrites = false) where T : unmanaged, IFloatingPointIeee754<T> => new(model)
    {
        PoisonSummedOnly = true, SkipSummedOnlyWrites = skipWrites,
        RejectSumsAhead = reader == "sums refused", RoleConstantKeysDensely = reader == "means dense",
        SumsAheadNotFinite = reader == "sums not finite", ResetsReadSummedOnly = reader == "resets read",
    };

    /// <summary>The row-by-row pass; with the means run densely when the forced reader does (dense and structured differ in the last bits).</summary>
    private static ModelExecutor<T> PlainFor<T>(TransformerModel model, string reader) where T : unmanaged, IFloatingPointIeee754<T> =>
        new(model) { FusedRows = false, RoleConstantKeysDensely = reader == "means dense" };

    [Theory, MemberData(nameof(Readers))]
    public void ARowSummedOnlyIsWrittenBeforeEachOfItsReaders(string reader)
    {
        // Rows left summed only hold NaN until they are written (the poison): every read of one before its write would
        // show in ŷ, β̂, the stream or a certificate. Each reader is forced on its own; without it ("none") the sums are
        // taken and the resets set the rows without reading them, so none is written. The mutant that never writes them
        // must fail wherever one is read.
        foreach (int seed in new[] { 2, 6 })
        {
            var (spec, prompt, name) = StructuredEqualsDenseTests.Case(seed);
            var model = Compiler.Compile(spec);
            var pass = Forcing<double>(model, reader);
            BlockScheduleTests.AssertSameBits(pass, PlainFor<double>(model, reader), prompt, $"{name}, {reader}");
            var c = pass.Counts;
            Assert.True(c.SummedOnly > 0, $"{name}, {reader}: no row was left summed only");
            if (reader == "none") Assert.Equal(0, c.SummedWritten);
            else
            {
                Assert.True(c.SummedWritten > 0, $"{name}, {reader}: no row summed only was written");
                var mutant = Forcing<double>(model, reader, skipWrites: true);
                Assert.ThrowsAny<XunitException>(() => BlockScheduleTests.AssertSameBits(mutant, PlainFor<double>(model, reader), prompt, $"{name}, {reader}, never written"));
            }
            BlockScheduleTests.AssertSameBits(Forcing<float>(model, reader), PlainFor<float>(model, reader), prompt, $"{name}, {reader}, float");
        }
    }

    [Fact]
    public void NextWritesAreTheFirstLayerFromEachLayerOnThatWritesARow()
    {
        // Against a search of every layer's WrittenRows: a maximum formed in layer l holds up to that layer.
        var (spec, _, _) = StructuredEqualsDenseTests.Case(6);
        var compiled = new CompiledModel<double>(Compiler.Compile(spec));
        int L = compiled.Layers.Length, D = compiled.Source.Dimension;
        var next = StructuredExecutor<double>.NextWrites(compiled);
        for (int l = 0; l < L; l++)
            for (int c = 0; c < D; c++)
            {
                int first = Enumerable.Range(l, L - l).FirstOrDefault(w => compiled.Layers[w].WrittenRows.Contains(c), L);
                Assert.Equal(first, next[l * D + c]);
            }
        Assert.Contains(Enumerable.Range(0, L * D), i => next[i] == i / D);       // a row written by its own layer
        Assert.Contains(Enumerable.Range(0, L * D), i => next[i] > i / D && next[i] < L);
    }

    [Fact]
    public void RowsSummedOnlyAreWrittenBeforeTheyAreRead()
    {
        // The means refuse every sum formed ahead, so they read the rows a commit left summed only from H: those rows must be
        // written first, with the commit's bits. The mutant that never writes them must fail the comparison.
        foreach (int seed in new[] { 2, 6 })
        {
            var (spec, prompt, name) = StructuredEqualsDenseTests.Case(seed);
            var model = Compiler.Compile(spec);
            var reading = new ModelExecutor<double>(model) { RejectSumsAhead = true };
            BlockScheduleTests.AssertSameBits(reading, Plain<double>(model), prompt, name);
            Assert.True(reading.Counts.SummedOnly > 0 && reading.Counts.SummedWritten == reading.Counts.SummedOnly,
                $"{name}: {reading.Counts.SummedOnly} rows summed only, {reading.Counts.SummedWritten} written");
            var floats = new ModelExecutor<float>(model) { RejectSumsAhead = true };
            BlockScheduleTests.AssertSameBits(floats, Plain<float>(model), prompt, $"{name}, float");
            var mutant = new ModelExecutor<double>(model) { RejectSumsAhead = true, SkipSummedOnlyWrites = true };
            Assert.ThrowsAny<XunitException>(() => BlockScheduleTests.AssertSameBits(mutant, Plain<double>(model), prompt, name));
        }
        // Taken, the sums leave every such row unwritten: the reset sets it to +0 without reading it.
        var (s2, p2, n2) = StructuredEqualsDenseTests.Case(2);
        var taking = new ModelExecutor<double>(Compiler.Compile(s2));
        taking.Forward(p2.Examples, p2.Query);
        Assert.True(taking.Counts.SummedOnly > 0 && taking.Counts.SummedWritten == 0, $"{n2}: {taking.Counts.SummedWritten} of {taking.Counts.SummedOnly} written");
    }

    [Fact]
    public void ASumFormedAheadIsNotTakenByAnotherStream()
    {
        // Layer by layer on given streams (ModelExecutor.ForwardLayer): the gradient layer forms its sums ahead on one
        // stream; the mean, run next on another stream (the gradient rows changed), must sum that stream, not take them.
        var spec = new ConstructionSpec(3, 2, 0.5, new[] { 0.4, 0.6 }, 2, 2, 0.5);
        var model = Compiler.Compile(spec);
        var p = Sample(spec, 50, 29);
        var trace = new ModelExecutor<double>(model, ExecutorKind.Dense).Forward(p.Examples, p.Query, trace: true).Trace!;
        int l = Enumerable.Range(0, model.Layers.Count).First(i => model.Layers[i].Provenance.Operator == "gd_step" && model.Layers[i] is AttentionLayer);
        var names = model.Layout.RowNames();
        int D = model.Dimension;
        var fused = new ModelExecutor<double>(model);
        var (after, _) = fused.ForwardLayer(l, trace[l], p.N);
        var other = after.Select((v, i) => names[i % D].StartsWith("sx", StringComparison.Ordinal) ? v * 1.5 : v).ToArray();
        Assert.True(fused.Counts.SumsAhead > 0);
        var (a, ca) = fused.ForwardLayer(l + 1, other, p.N);
        var (b, cb) = Plain<double>(model).ForwardLayer(l + 1, other, p.N);
        Assert.Equal(b.Select(BitConverter.DoubleToInt64Bits), a.Select(BitConverter.DoubleToInt64Bits));
        Assert.Equal(0, fused.Counts.SumsUsed);
    }

    [Fact]
    public void ASumIsFiniteOnlyWhereItsRowIsFinite()
    {
        // docs/math.md §9.6, fused rows 2: the commit takes a row's finiteness from its sum ahead when the weight is finite
        // and non-zero. A row with one ±∞ or NaN anywhere (the tail chunk included) must give a non-finite sum, for weights
        // from 1e-300 to 1e300 of both signs; finite rows whose sum overflows are the exact test's (finite).
        var rng = new Random(4);
        foreach (int n in new[] { 1, 2, 7, 8, 9, 17, 100, 2051, 4100 })
            for (int trial = 0; trial < 20; trial++)
            {
                var row = Enumerable.Range(0, n).Select(_ => (rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-300, 300))).ToArray();
                row[rng.Next(n)] = new[] { double.PositiveInfinity, double.NegativeInfinity, double.NaN }[trial % 3];
                double w = (trial % 2 == 0 ? 1 : -1) * Math.Pow(10, rng.Next(-300, 301));
                Assert.False(double.IsFinite(SumInPieces(row, w)), $"n = {n}, w = {w:R}: a non-finite row summed to a finite number");
                var single = row.Select(v => (float)v).ToArray();
                Assert.False(float.IsFinite(SumInPieces(single, (float)Math.Clamp(w, 1e-30, 1e30))), $"n = {n}, float");
            }
        var big = Enumerable.Repeat(1e308, 64).ToArray();
        Assert.False(double.IsFinite(SumInPieces(big, 1.0)));          // finite values, an overflowing sum: tested exactly
    }

    private static T SumInPieces<T>(T[] row, T w) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int L = SimdSpan.VirtualLanes<T>(), n = row.Length, piece = 2048;
        var lanes = new T[L];
        for (int b0 = 0; b0 < n; b0 += piece)
        {
            int len = n - b0 - piece < L ? n - b0 : piece;
            SimdSpan.AccumulateSums<T>(lanes, row, new[] { b0 }, new[] { w }, b0, len, n);
            if (len != piece) break;
        }
        return SimdSpan.SumOfLanes<T>(lanes);
    }

    [Fact]
    public void RememberedExponentialsHaveTheBitsOfExp()
    {
        // Many numbers against 64 slots: repeats hit, collisions replace; ±0, ±∞, NaN and subnormals included.
        var rng = new Random(41);
        var pool = new[] { 0.0, -0.0, double.PositiveInfinity, double.NegativeInfinity, double.NaN, double.Epsilon, -4096.0, -745.2, 709.9 }
            .Concat(Enumerable.Range(0, 300).Select(_ => (rng.NextDouble() - 0.7) * 800)).ToArray();
        var memo = new ExpMemo<double>();
        var memoF = new ExpMemo<float>();
        for (int i = 0; i < 5000; i++)
        {
            double x = pool[rng.Next(pool.Length)];
            Assert.Equal(BitConverter.DoubleToInt64Bits(SimdSpan.Exp(x)), BitConverter.DoubleToInt64Bits(memo.Of(x)));
            float xf = (float)x / 8;
            Assert.Equal(BitConverter.SingleToInt32Bits(SimdSpan.Exp(xf)), BitConverter.SingleToInt32Bits(memoF.Of(xf)));
        }
        Assert.True(memo.Hits > 0 && memoF.Hits > 0);
    }

    /// <summary>
    /// The one-token roles' operands projected together (<see cref="FixedOrder{T}.ProjectTokens"/>) hold the bits of one
    /// <see cref="FixedOrder{T}.ProjectToken"/> per token, on rows with ±0, ±∞, NaN and several non-zeros per row; a mutant that
    /// adds the weights in another order must differ.
    /// </summary>
    [Fact]
    public void TokensProjectedTogetherHaveTheBitsOfOneProjectionEach()
    {
        var rng = new Random(43);
        int D = 12, ld = 16, rows = 7, first = 9, tokens = 4, stride = 9;
        var pool = new[] { 0.0, -0.0, double.PositiveInfinity, double.NegativeInfinity, double.NaN, 1e308, -1e308, 5e-324 };
        var h = Enumerable.Range(0, D * ld).Select(_ => rng.Next(6) == 0 ? pool[rng.Next(pool.Length)] : rng.NextDouble() * 8 - 4).ToArray();
        var start = new List<int> { 0 }; var cols = new List<int>(); var values = new List<double>();
        for (int a = 0; a < rows; a++)
        {
            foreach (int c in Enumerable.Range(0, D).Where(_ => rng.Next(3) == 0)) { cols.Add(c); values.Add(rng.Next(4) == 0 ? -1 : rng.NextDouble() * 3 - 1.5); }
            start.Add(cols.Count);
        }
        var m = new CompiledModel<double>.SparseRows { Start = start.ToArray(), Cols = cols.ToArray(), Values = values.ToArray() };
        var together = new double[tokens * stride];
        FixedOrder<double>.ProjectTokens(m, h, ld, first, tokens, together, stride);
        var one = new double[rows];
        for (int j = 0; j < tokens; j++)
        {
            FixedOrder<double>.ProjectToken(m, h, ld, first + j, one);
            for (int a = 0; a < rows; a++) Assert.Equal(BitConverter.DoubleToInt64Bits(one[a]), BitConverter.DoubleToInt64Bits(together[j * stride + a]));
        }
        // A check of bits that rejects: the same sums in reverse column order differ somewhere on these rows.
        bool differs = false;
        for (int j = 0; j < tokens; j++)
            for (int a = 0; a < rows; a++)
            {
                int e0 = start[a], e1 = start[a + 1];
                if (e1 - e0 < 3) continue;
                double rev = h[cols[e1 - 1] * ld + first + j] * values[e1 - 1];
                for (int e = e1 - 2; e >= e0; e--) rev += values[e] * h[cols[e] * ld + first + j];
                differs |= BitConverter.DoubleToInt64Bits(rev) != BitConverter.DoubleToInt64Bits(together[j * stride + a]);
            }
        Assert.True(differs);
    }

    public static IEnumerable<object[]> Lengths => new[] { 1, 7, 8, 9, 31, 32, 33, 100, 1001 }.Select(n => new object[] { n });

    [Theory, MemberData(nameof(Lengths))]
    public void FusedKernelsGiveTheBitsOfOnePassPerRow(int n)
    {
        Kernels<double>(n);
        Kernels<float>(n);
    }

    /// <summary>
    /// <see cref="FusedRowKernels{T}"/> against the row-by-row kernels on rows with ±0, ±∞, NaN, subnormals and ties, H holding
    /// the rows at an offset (and the buffer some of them), for the fused dot with its maxima and the fused commit.
    /// </summary>
    private static void Kernels<T>(int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(n * 31 + (typeof(T) == typeof(float) ? 1 : 0));
        T Draw()
        {
            int k = rng.Next(40);
            return k switch
            {
                0 => T.Zero, 1 => T.NegativeZero, 2 => T.PositiveInfinity, 3 => T.NegativeInfinity, 4 => T.NaN, 5 => T.Epsilon,
                _ => T.CreateChecked((rng.NextDouble() - 0.5) * Math.Pow(2, rng.Next(-30, 30))),
            };
        }
        int ld = n + 5, start = 2, rows = 6;
        var h = Enumerable.Range(0, rows * ld).Select(_ => Draw()).ToArray();
        var buffer = Enumerable.Range(0, 2 * ld).Select(_ => Draw()).ToArray();
        // Rows 0–2 direct (H rows 4, 1, 5, signs −1, 1, 1), row 3 projected (the first buffer row).
        var m = new CompiledModel<T>.SparseRows
        {
            Start = new[] { 0, 1, 2, 3, 5 }, Cols = new[] { 4, 1, 5, 0, 2 },
            Values = new[] { -T.One, T.One, T.One, T.CreateChecked(0.5), T.CreateChecked(2.0) },
        };
        var sources = new RowSources<T>(m);
        Assert.Equal(0, sources.BufferRow[3]);
        var k = new[] { T.CreateChecked(0.75), T.CreateChecked(-3.0), T.CreateChecked(1e-3), T.CreateChecked(7.0) };
        foreach (bool fromScore in new[] { false, true })
        {
            var init = Enumerable.Range(0, n).Select(_ => Draw()).ToArray();
            var expected = fromScore ? init.ToArray() : Enumerable.Repeat(T.CreateChecked(-4.0), n).ToArray();
            var max = new double[4];
            for (int a = 0; a < 4; a++)
                max[a] = StructuredRowKernels<T>.AddScaledTrackingMax(expected, sources.Row(a, h, buffer, ld, start, n), k[a]);
            var got = init.ToArray();
            var gotMax = new double[4];
            FusedRowKernels<T>.DotTrackingMax(got, T.CreateChecked(-4.0), fromScore, sources, h, buffer, ld, start, k, gotMax);
            Assert.Equal(expected.Select(Bits), got.Select(Bits));
            Assert.Equal(max.Select(BitConverter.DoubleToInt64Bits), gotMax.Select(BitConverter.DoubleToInt64Bits));
        }
        // The per-token scores of a RoleConstantKeys head: projected (an empty row is +0), then Multiply and MultiplyAdd row
        // by row, against the fused loop reading the direct rows in place with their signs on the keys.
        var q = new CompiledModel<T>.SparseRows
        {
            Start = new[] { 0, 1, 2, 2, 4, 5 }, Cols = new[] { 4, 1, 0, 2, 5 },
            Values = new[] { -T.One, T.One, T.CreateChecked(0.5), T.CreateChecked(2.0), -T.One },
        };
        var qs = new RowSources<T>(q);
        foreach (var key in new[]
        {
            new[] { T.CreateChecked(0.75), T.CreateChecked(-3.0), T.CreateChecked(5.0), T.CreateChecked(1e-3), T.CreateChecked(7.0) },
            new[] { T.NegativeZero, T.PositiveInfinity, T.CreateChecked(-2.0), T.NaN, T.Epsilon },
        })
        {
            var projected = new T[5 * ld];
            ModelExecutor<T>.Project(q, h, ld, projected);
            var expected = new T[n];
            System.Numerics.Tensors.TensorPrimitives.Multiply(projected.AsSpan(start, n), key[0], expected);
            for (int a = 1; a < 5; a++)
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(projected.AsSpan(a * ld + start, n), key[a], expected, expected);
            var qbuffer = new T[2 * ld];
            qs.Project(h, ld, qbuffer);
            var signed = Enumerable.Range(0, 5).Select(a => qs.Sign[a] * key[a]).ToArray();
            var got = Enumerable.Range(0, n).Select(_ => Draw()).ToArray();
            FusedRowKernels<T>.DotInOrder(got, qs, h, qbuffer, ld, start, signed);
            Assert.Equal(expected.Select(Bits), got.Select(Bits));
        }
        // The commit: output H rows 3 and 0 (row 3 read as the constant 2.5, +0 or −0), values 0 and 3, scales −1/N and 1/N.
        var w = Enumerable.Range(0, n).Select(_ => Draw()).ToArray();
        foreach (T baseValue in new[] { T.CreateChecked(2.5), T.Zero, T.NegativeZero })
        foreach (bool relu in new[] { false, true })
        {
            var before = h.ToArray();
            var expect = h.ToArray();
            expect.AsSpan(3 * ld + start, n).Fill(baseValue);
            var scale = new[] { -T.One / T.CreateChecked(37), T.One / T.CreateChecked(37) };
            int[] outRows = { 3, 0 }, values = { 0, 3 };
            bool finite = true;
            for (int r = 0; r < 2; r++)
                finite &= StructuredRowKernels<T>.CommitWeightedValue(expect.AsSpan(outRows[r] * ld + start, n), w, sources.Row(values[r], expect, buffer, ld, start, n), scale[r] * sources.Sign[values[r]], relu);
            var got = before.ToArray();
            var c = new[] { scale[0] * sources.Sign[0], scale[1] * sources.Sign[3] };
            bool gotFinite = FusedRowKernels<T>.CommitWeightedValues(got, outRows, new[] { true, false }, new[] { baseValue, T.Zero },
                w, sources, buffer, values, c, relu, ld, start);
            Assert.Equal(expect.Select(Bits), got.Select(Bits));
            Assert.Equal(finite, gotFinite);
        }
        // The E-step gate's commit onto a row kept per role at b: the fill with b, then the commit, against the commit reading b.
        var norm = Enumerable.Range(0, n).Select(_ => Draw()).ToArray();
        foreach (T b in new[] { T.CreateChecked(2.5), T.Zero, T.NegativeZero, T.NaN, T.PositiveInfinity, T.CreateChecked(-1e-30) })
        {
            var filled = Enumerable.Repeat(b, n).ToArray();
            bool f1 = StructuredRowKernels<T>.CommitWeightedQuotient(filled, w, sources.Row(1, h, buffer, ld, start, n), norm, T.CreateChecked(-0.5));
            var onConstant = Enumerable.Range(0, n).Select(_ => Draw()).ToArray();   // whatever the row held: not read
            bool f2 = StructuredRowKernels<T>.CommitWeightedQuotient(onConstant, w, sources.Row(1, h, buffer, ld, start, n), norm, T.CreateChecked(-0.5), onConstant: true, b);
            Assert.Equal(filled.Select(Bits), onConstant.Select(Bits));
            Assert.Equal(f1, f2);
        }
    }

    [Theory, MemberData(nameof(Lengths))]
    public void SumsOfSeveralRowsInPiecesHaveTheBitsOfEachRowsSum(int n)
    {
        Sums<double>(n);
        Sums<float>(n);
    }

    /// <summary><see cref="SimdSpan.AccumulateSums{T}"/> of 1 to 6 rows, in pieces as the fused commit cuts them, against <see cref="SimdSpan.Dot{T}"/> row by row.</summary>
    private static void Sums<T>(int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(n + 5);
        int L = SimdSpan.VirtualLanes<T>();
        SummedOnly<T>(n, rng);
        for (int count = 1; count <= 6; count++)
        {
            var x = Enumerable.Range(0, count * (n + 3)).Select(_ => T.CreateChecked((rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-8, 9)))).ToArray();
            var weights = Enumerable.Range(0, count).Select(_ => T.CreateChecked(rng.NextDouble() - 0.3)).ToArray();
            var lanes = new T[count * L];
            int piece = 2 * L;
            for (int b0 = 0; b0 < n; b0 += piece)
            {
                int len = n - b0 - piece < L ? n - b0 : piece;
                var offsets = Enumerable.Range(0, count).Select(r => r * (n + 3) + 1 + b0).ToArray();
                SimdSpan.AccumulateSums<T>(lanes, x, offsets, weights, b0, len, n);
                if (len != piece) break;
            }
            for (int r = 0; r < count; r++)
            {
                var row = x.AsSpan(r * (n + 3) + 1, n);
                var wr = Enumerable.Repeat(weights[r], n).ToArray();
                Assert.Equal(Bits(SimdSpan.Dot<T>(row, wr)), Bits(SimdSpan.SumOfLanes<T>(lanes.AsSpan(r * L, L))));
            }
        }
    }

    /// <summary>
    /// <see cref="FusedRowKernels{T}.SumsOfWeightedValues"/> of 1 to 6 rows (ReLU or not, scores with ±0, ±∞ and NaN) against the
    /// commit onto +0 (<see cref="FusedRowKernels{T}.CommitWeightedValues"/>) followed by <see cref="SimdSpan.AccumulateSums{T}"/> of
    /// the rows it wrote, block by block as the fused commit does.
    /// </summary>
    private static void SummedOnly<T>(int n, Random rng) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int L = SimdSpan.VirtualLanes<T>(), ld = n + 3, start = 1;
        T Draw(int k) => k switch
        {
            0 => T.Zero, 1 => T.NegativeZero, 2 => T.PositiveInfinity, 3 => T.NaN,
            _ => T.CreateChecked((rng.NextDouble() - 0.5) * Math.Pow(2, rng.Next(-20, 20))),
        };
        for (int m = 1; m <= 6; m++)
        foreach (bool relu in new[] { false, true })
        foreach (bool special in new[] { false, true })
        {
            // H: value rows 0 … m − 1 (x), output rows m … 2m − 1.
            var h = Enumerable.Range(0, 2 * m * ld).Select(_ => Draw(rng.Next(4, 40))).ToArray();
            var w = Enumerable.Range(0, n).Select(_ => Draw(special ? rng.Next(0, 12) : rng.Next(4, 40))).ToArray();
            var values = new RowSources<T>(new CompiledModel<T>.SparseRows
            {
                Start = Enumerable.Range(0, m + 1).ToArray(), Cols = Enumerable.Range(0, m).ToArray(),
                Values = Enumerable.Range(0, m).Select(r => r % 2 == 0 ? T.One : -T.One).ToArray(),
            });
            var v = Enumerable.Range(0, m).ToArray();
            var outRows = Enumerable.Range(m, m).ToArray();
            var c = Enumerable.Range(0, m).Select(r => values.Sign[r] / T.CreateChecked(n + 4)).ToArray();
            var weights = Enumerable.Range(0, m).Select(r => T.CreateChecked(rng.NextDouble() + 0.25)).ToArray();
            var written = h.ToArray();
            var expected = new T[m * L];
            for (int b0 = 0; b0 < n; b0 += 2048)
            {
                int len = n - b0 - 2048 < L ? n - b0 : 2048;
                FusedRowKernels<T>.CommitWeightedValues(written, outRows, Enumerable.Repeat(true, m).ToArray(), new T[m], w.AsSpan(b0, len), values, written, v, c, relu, ld, start + b0);
                SimdSpan.AccumulateSums<T>(expected, written, outRows.Select(r => r * ld + start + b0).ToArray(), weights, b0, len, n);
                if (len != 2048) break;
            }
            var got = new T[m * L];
            var before = h.ToArray();
            FusedRowKernels<T>.SumsOfWeightedValues(got, w, values, h, v, c, weights, relu, ld, start);
            Assert.Equal(expected.Select(Bits), got.Select(Bits));   // every lane of every row
            Assert.Equal(before.Select(Bits), h.Select(Bits));   // nothing written
        }
    }

    private static long Bits<T>(T v) where T : unmanaged, IFloatingPointIeee754<T> =>
        typeof(T) == typeof(double) ? BitConverter.DoubleToInt64Bits(double.CreateTruncating(v)) : BitConverter.SingleToInt32Bits(float.CreateTruncating(v));
}
