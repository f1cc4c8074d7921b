using System.Runtime.CompilerServices;

// Every signature is blittable or marshalled by generated code; the runtime marshaller never runs.
[assembly: DisableRuntimeMarshalling]
