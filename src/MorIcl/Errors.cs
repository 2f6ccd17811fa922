namespace MorIcl;

/// <summary>Base of every error MorIcl reports to a user: the message names the problem
/// (file, line, field or parameter) and is meant to be printed as it is.</summary>
public class MorIclException : Exception
{
    public MorIclException(string message) : base(message) { }
    public MorIclException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A specification (mixture, EM options, construction parameters) that cannot work.</summary>
public sealed class SpecificationException : MorIclException
{
    public SpecificationException(string message) : base(message) { }
}

/// <summary>Input data or a file that is malformed: the message names the file, line and field.</summary>
public sealed class InputException : MorIclException
{
    public InputException(string message) : base(message) { }
    public InputException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A numerical failure that would otherwise give NaN (e.g. a singular weighted Gram matrix).</summary>
public sealed class NumericalException : MorIclException
{
    public NumericalException(string message) : base(message) { }
}
