namespace GroupedGemm.Bindings.Model;

// What the parser read from the header, in header order, before any .NET naming is applied.

/// <summary>A C type as the emitter needs it.</summary>
internal abstract record CType
{
    /// <summary>The C spelling, for error messages.</summary>
    public required string Spelling { get; init; }
}

/// <summary>void, int, float, ...: a builtin C type, by libclang type kind.</summary>
internal sealed record BuiltinType(int Kind) : CType;

/// <summary>A typedef name that is neither an enum nor a struct alias (int32_t, size_t, gg_handle_t).</summary>
internal sealed record TypedefName(string Name) : CType;

/// <summary>A reference to an enum declared in the header, by its C tag or typedef name.</summary>
internal sealed record EnumRef(string Name) : CType;

/// <summary>A reference to a struct declared in the header, by its C tag or typedef name.</summary>
internal sealed record StructRef(string Name) : CType;

/// <summary>A pointer to <see cref="Pointee"/>.</summary>
internal sealed record PointerType(CType Pointee) : CType;

/// <summary>A fixed-size array (struct fields only).</summary>
internal sealed record ArrayType(CType Element, long Length) : CType;

/// <summary>A declaration of the header with its position and doc comment.</summary>
internal abstract record Declaration(string Name, int Line, string? Doc);

/// <summary>A <c>#define NAME value</c>.</summary>
internal sealed record MacroDecl(string Name, int Line, string? Doc, IReadOnlyList<string> BodyTokens, bool FunctionLike)
    : Declaration(Name, Line, Doc);

/// <summary>One enumerator.</summary>
internal sealed record EnumConstant(string Name, int Line, string? Doc, long Value) : Declaration(Name, Line, Doc);

/// <summary>An enum (named by its tag).</summary>
internal sealed record EnumDecl(string Name, int Line, string? Doc, IReadOnlyList<EnumConstant> Constants)
    : Declaration(Name, Line, Doc);

/// <summary>One struct field.</summary>
internal sealed record FieldDecl(string Name, int Line, string? Doc, CType Type, bool IsBitField) : Declaration(Name, Line, Doc);

/// <summary>A struct definition, or a forward declaration (<see cref="IsDefinition"/> false).</summary>
internal sealed record StructDecl(string Name, int Line, string? Doc, bool IsDefinition, IReadOnlyList<FieldDecl> Fields)
    : Declaration(Name, Line, Doc);

/// <summary>A typedef.</summary>
internal sealed record TypedefDecl(string Name, int Line, string? Doc, CType Underlying) : Declaration(Name, Line, Doc);

/// <summary>One function parameter.</summary>
internal sealed record ParameterDecl(string Name, CType Type);

/// <summary>A function prototype.</summary>
internal sealed record FunctionDecl(string Name, int Line, string? Doc, CType ReturnType, IReadOnlyList<ParameterDecl> Parameters, bool IsVariadic)
    : Declaration(Name, Line, Doc);

/// <summary>A declaration kind the generator does not know (union, global variable, ...).</summary>
internal sealed record UnsupportedDecl(string Name, int Line, string Kind) : Declaration(Name, Line, null);

/// <summary>Everything in the header (not in the headers it includes), in header order.</summary>
internal sealed record HeaderModel(string HeaderPath, IReadOnlyList<Declaration> Declarations);
