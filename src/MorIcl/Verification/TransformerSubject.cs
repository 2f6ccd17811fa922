using System.Collections.Concurrent;
using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Mixture;
using MorIcl.Runtime;

namespace MorIcl.Verification;

/// <summary>
/// A transformer run by the runtime's fast executor in double precision: the model for a specification
/// comes from <paramref name="modelFor"/> (default: compile it). Iterates are decoded from the residual
/// stream by the layers' provenance (<see cref="TraceDecoder"/>). Instances are cached per specification.
/// </summary>
public sealed class TransformerSubject(Func<ConstructionSpec, TransformerModel> modelFor, string name = "constructed transformer") : ISubject
{
    private readonly ConcurrentDictionary<ConstructionSpec, Lazy<ISubjectInstance>> _instances = new();

    /// <summary>The construction compiled by <see cref="Compiler.Compile"/>: the correct system.</summary>
    public static TransformerSubject Compiled { get; } = new(Compiler.Compile);

    /// <summary>One given model (a model file): its own specification is what it claims.</summary>
    public static TransformerSubject Of(TransformerModel model, string name) =>
        new(spec => spec.Equals(model.Spec) ? model : throw new InvalidOperationException($"{name} implements only its own specification"), name);

    public string Name => name;

    public ISubjectInstance For(ConstructionSpec spec) =>
        _instances.GetOrAdd(spec, s => new Lazy<ISubjectInstance>(() => new Instance(modelFor(s)))).Value;

    private sealed class Instance(TransformerModel model) : ISubjectInstance
    {
        private readonly ModelExecutor<double> _executor = new(model);
        public ConstructionSpec Spec => model.Spec;
        public TransformerModel? Model => model;

        public SubjectRun Run(Prompt prompt, bool trace)
        {
            var r = _executor.Forward(prompt.Examples, prompt.Query, trace);
            if (!trace) return new SubjectRun(r.Prediction, r.Beta, r.Certificate.InDomain);
            var (estep, inner) = TraceDecoder.Decode(model, r.Trace!, prompt.N);
            return new SubjectRun(r.Prediction, r.Beta, r.Certificate.InDomain, inner.Select(x => x.Values).ToList(), estep.Select(x => x.Values).ToList(), r.Trace);
        }
    }
}

/// <summary>An algorithm in place of the transformer (no weights, no certificate): <paramref name="run"/> answers a prompt for a specification.</summary>
public sealed class AlgorithmSubject(string name, Func<ConstructionSpec, Prompt, SubjectRun> run) : ISubject
{
    public string Name => name;
    public ISubjectInstance For(ConstructionSpec spec) => new Instance(spec, run);

    private sealed class Instance(ConstructionSpec spec, Func<ConstructionSpec, Prompt, SubjectRun> run) : ISubjectInstance
    {
        public ConstructionSpec Spec => spec;
        public TransformerModel? Model => null;
        public SubjectRun Run(Prompt prompt, bool trace) => run(spec, prompt);
    }
}
