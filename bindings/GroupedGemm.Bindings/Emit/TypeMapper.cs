using GroupedGemm.Bindings.Clang;
using GroupedGemm.Bindings.Model;

namespace GroupedGemm.Bindings.Emit;

/// <summary>C types to blittable C# types; anything it cannot map exactly is an error, never a guess.</summary>
internal sealed class TypeMapper
{
    /// <summary>Fixed-width typedefs of stdint.h/stddef.h, mapped by name (the width is in the name, not the host).</summary>
    private static readonly Dictionary<string, string> StandardTypedefs = new(StringComparer.Ordinal)
    {
        ["int8_t"] = "sbyte",
        ["uint8_t"] = "byte",
        ["int16_t"] = "short",
        ["uint16_t"] = "ushort",
        ["int32_t"] = "int",
        ["uint32_t"] = "uint",
        ["int64_t"] = "long",
        ["uint64_t"] = "ulong",
        ["size_t"] = "nuint",
        ["ptrdiff_t"] = "nint",
        ["intptr_t"] = "nint",
        ["uintptr_t"] = "nuint",
    };

    /// <summary>Element types a C# fixed-size buffer may have.</summary>
    private static readonly HashSet<string> FixedBufferElements = new(StringComparer.Ordinal)
    {
        "byte", "sbyte", "short", "ushort", "int", "uint", "long", "ulong", "float", "double",
    };

    private readonly Mapping mapping;
    private readonly HashSet<string> enums;
    private readonly HashSet<string> structs;

    /// <summary>Creates a mapper for one header.</summary>
    /// <param name="mapping">The naming rules.</param>
    /// <param name="enums">C names of the header's enums.</param>
    /// <param name="structs">C names of the header's struct definitions.</param>
    public TypeMapper(Mapping mapping, HashSet<string> enums, HashSet<string> structs)
    {
        this.mapping = mapping;
        this.enums = enums;
        this.structs = structs;
    }

    /// <summary>The C# type of a return value, parameter or field.</summary>
    /// <param name="type">The C type.</param>
    /// <param name="isReturn">True for a return type (the only place a bare void is allowed).</param>
    /// <returns>The C# type.</returns>
    /// <exception cref="GeneratorException">The type has no exact blittable equivalent.</exception>
    public string Map(CType type, bool isReturn = false) => type switch
    {
        BuiltinType { Kind: TypeKind.Void } when isReturn => "void",
        BuiltinType b => MapBuiltin(b),
        TypedefName t => MapTypedef(t),
        EnumRef e when enums.Contains(e.Name) => TypeName(e.Name),
        StructRef s when structs.Contains(s.Name) => TypeName(s.Name),
        StructRef s => throw new GeneratorException(
            $"struct {s.Name} is used by value or by pointer but has no definition in the header; an opaque struct must be used through a handle typedef listed in mapping.json \"handles\"."),
        PointerType p => MapPointer(p),
        _ => throw new GeneratorException($"the C type '{type.Spelling}' has no blittable C# equivalent the generator knows."),
    };

    /// <summary>The type behind an <c>out</c> parameter: the pointee, with <c>void*</c> carried as nint.</summary>
    /// <param name="type">The parameter's C type, which must be a pointer.</param>
    /// <returns>The C# type after <c>out</c>.</returns>
    public string MapOut(CType type) => type switch
    {
        PointerType { Pointee: PointerType { Pointee: BuiltinType { Kind: TypeKind.Void } } } => "nint",
        PointerType { Pointee: BuiltinType { Kind: TypeKind.Void } } =>
            throw new GeneratorException("a void* parameter cannot be an out parameter (it points to untyped memory)."),
        PointerType p => Map(p.Pointee),
        _ => throw new GeneratorException($"only pointer parameters can be out parameters, not '{type.Spelling}'."),
    };

    /// <summary>A struct field declaration body: "int Name" or a fixed buffer "fixed int Name[4]".</summary>
    /// <param name="type">The field's C type.</param>
    /// <param name="name">The C# field name.</param>
    /// <returns>The declaration without modifiers and semicolon.</returns>
    public string FieldDeclaration(CType type, string name)
    {
        if (type is ArrayType array)
        {
            string element = Map(array.Element);
            if (!FixedBufferElements.Contains(element))
            {
                throw new GeneratorException($"array field of '{array.Element.Spelling}': only arrays of primitive numbers can be fixed buffers.");
            }

            return $"fixed {element} {name}[{array.Length}]";
        }

        return $"{Map(type)} {name}";
    }

    /// <summary>The .NET name of an enum or struct.</summary>
    /// <param name="cName">The C tag.</param>
    /// <returns>The name from mapping.json "types".</returns>
    public string TypeName(string cName) => mapping.Types.TryGetValue(cName, out string? name)
        ? name
        : throw new GeneratorException($"{cName} has no .NET name: add \"{cName}\": \"{Naming.PascalCase(cName)}\" to mapping.json \"types\".");

    private string MapPointer(PointerType pointer) => pointer.Pointee switch
    {
        BuiltinType { Kind: TypeKind.Void } => "void*",
        BuiltinType { Kind: TypeKind.CharS or TypeKind.CharU } => "byte*", // C strings: UTF-8 bytes
        BuiltinType { Kind: TypeKind.FunctionProto or TypeKind.FunctionNoProto } =>
            throw new GeneratorException($"function pointer '{pointer.Spelling}' is not supported by the generator."),
        var pointee => Map(pointee) + "*",
    };

    private static string MapBuiltin(BuiltinType type) => type.Kind switch
    {
        TypeKind.Float => "float",
        TypeKind.Double => "double",
        TypeKind.Int => "int",
        TypeKind.UInt => "uint",
        TypeKind.Short => "short",
        TypeKind.UShort => "ushort",
        TypeKind.LongLong => "long",
        TypeKind.ULongLong => "ulong",
        TypeKind.CharS or TypeKind.CharU or TypeKind.UChar => "byte",
        TypeKind.SChar => "sbyte",
        TypeKind.Long or TypeKind.ULong => throw new GeneratorException(
            $"'{type.Spelling}' has a platform-dependent width (32-bit on Windows); use int64_t or int32_t."),
        TypeKind.Bool => throw new GeneratorException("'_Bool'/'bool' is not a stable ABI type; use int32_t (0 or 1)."),
        TypeKind.Void => throw new GeneratorException("'void' is only allowed as a return type or behind a pointer."),
        _ => throw new GeneratorException($"the C type '{type.Spelling}' has no blittable C# equivalent the generator knows."),
    };

    private string MapTypedef(TypedefName typedef)
    {
        if (StandardTypedefs.TryGetValue(typedef.Name, out string? standard))
        {
            return standard;
        }

        if (mapping.Handles.TryGetValue(typedef.Name, out string? handle))
        {
            return handle;
        }

        throw new GeneratorException(
            $"typedef '{typedef.Name}' is not a fixed-width integer type, an enum, a struct or a handle listed in mapping.json \"handles\".");
    }
}
