using System;

namespace MorIcl.Construction
{
    /// <summary>A construction specification that cannot work; <see cref="Parameter"/> names the offending parameter.</summary>
    public sealed class ConstructionException : Exception
    {
        public string Parameter { get; }
        public ConstructionException(string parameter, string message) : base(message) { Parameter = parameter; }
    }
}
