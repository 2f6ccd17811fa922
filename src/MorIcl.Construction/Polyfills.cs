// Lets records and init accessors compile on netstandard2.0 (the generator's target).
namespace System.Runtime.CompilerServices
{
    internal static class IsExternalInit { }
}
