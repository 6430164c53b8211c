using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using GroupedGemm.Bindings.Model;

namespace GroupedGemm.Bindings.Clang;

/// <summary>
/// Parses the C header with libclang and returns its top-level declarations in header order. Only the
/// header itself is read into the model; the headers it includes are only parsed.
/// </summary>
internal static unsafe class HeaderParser
{
    /// <summary>Parses <paramref name="headerPath"/>; any warning or error from clang fails the run.</summary>
    /// <param name="headerPath">The header to read (the translation unit's main file).</param>
    /// <param name="includeDirectories">-I directories (native/include).</param>
    /// <param name="shimDirectory">Directory with the minimal stddef.h/stdint.h/stdbool.h used instead of the system's.</param>
    /// <returns>The declarations of the header.</returns>
    public static HeaderModel Parse(string headerPath, IReadOnlyList<string> includeDirectories, string shimDirectory)
    {
        // -nostdinc + the shim: the result must not depend on which C library or compiler the host has.
        var args = new List<string> { "-x", "c", "-std=c11", "-nostdinc", "-isystem", shimDirectory };
        foreach (string dir in includeDirectories)
        {
            args.Add("-I");
            args.Add(dir);
        }

        nint index = LibClang.clang_createIndex(0, 0);
        try
        {
            nint unit = ParseUnit(index, headerPath, args);
            try
            {
                ThrowOnDiagnostics(unit, headerPath);
                return new HeaderModel(headerPath, ReadDeclarations(unit, headerPath));
            }
            finally
            {
                LibClang.clang_disposeTranslationUnit(unit);
            }
        }
        finally
        {
            LibClang.clang_disposeIndex(index);
        }
    }

    private static nint ParseUnit(nint index, string headerPath, List<string> args)
    {
        var pinned = new List<GCHandle>();
        try
        {
            byte*[] argv = new byte*[args.Count];
            for (int i = 0; i < args.Count; i++)
            {
                var handle = GCHandle.Alloc(Utf8z(args[i]), GCHandleType.Pinned);
                pinned.Add(handle);
                argv[i] = (byte*)handle.AddrOfPinnedObject();
            }

            nint unit;
            int error;
            fixed (byte* file = Utf8z(headerPath))
            fixed (byte** argvPtr = argv)
            {
                error = LibClang.clang_parseTranslationUnit2(
                    index, file, argvPtr, argv.Length, null, 0, LibClang.DetailedPreprocessingRecord, &unit);
            }

            if (error != 0 || unit == 0)
            {
                throw new GeneratorException($"libclang could not parse {headerPath} (CXErrorCode {error}).");
            }

            return unit;
        }
        finally
        {
            foreach (GCHandle handle in pinned)
            {
                handle.Free();
            }
        }
    }

    private static byte[] Utf8z(string text) => Encoding.UTF8.GetBytes(text + "\0");

    private static void ThrowOnDiagnostics(nint unit, string headerPath)
    {
        var messages = new List<string>();
        uint count = LibClang.clang_getNumDiagnostics(unit);
        for (uint i = 0; i < count; i++)
        {
            nint diagnostic = LibClang.clang_getDiagnostic(unit, i);
            try
            {
                if (LibClang.clang_getDiagnosticSeverity(diagnostic) >= LibClang.DiagnosticWarning)
                {
                    messages.Add(LibClang.Take(LibClang.clang_formatDiagnostic(diagnostic, LibClang.clang_defaultDiagnosticDisplayOptions())));
                }
            }
            finally
            {
                LibClang.clang_disposeDiagnostic(diagnostic);
            }
        }

        if (messages.Count > 0)
        {
            throw new GeneratorException(
                $"clang reported {messages.Count} problem(s) in {headerPath}; the bindings are generated only from a clean header:\n  "
                + string.Join("\n  ", messages));
        }
    }

    private static List<Declaration> ReadDeclarations(nint unit, string headerPath)
    {
        string[] headerLines = File.ReadAllText(headerPath).Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var declarations = new List<Declaration>();
        foreach (CXCursor cursor in Children(LibClang.clang_getTranslationUnitCursor(unit)))
        {
            if (LibClang.clang_Location_isFromMainFile(LibClang.clang_getCursorLocation(cursor)) == 0)
            {
                continue;
            }

            string name = Spelling(cursor);
            int line = Line(cursor);
            switch (cursor.Kind)
            {
                case CursorKind.MacroExpansion:
                case CursorKind.InclusionDirective:
                    break;
                case CursorKind.MacroDefinition:
                    declarations.Add(new MacroDecl(
                        name, line, MacroDoc(headerLines, line), MacroBody(unit, cursor), LibClang.clang_Cursor_isMacroFunctionLike(cursor) != 0));
                    break;
                case CursorKind.EnumDecl:
                    declarations.Add(ReadEnum(cursor, name, line));
                    break;
                case CursorKind.StructDecl:
                    declarations.Add(ReadStruct(cursor, name, line));
                    break;
                case CursorKind.TypedefDecl:
                    declarations.Add(new TypedefDecl(name, line, Doc(cursor), ConvertType(LibClang.clang_getTypedefDeclUnderlyingType(cursor))));
                    break;
                case CursorKind.FunctionDecl:
                    declarations.Add(ReadFunction(cursor, name, line));
                    break;
                default:
                    declarations.Add(new UnsupportedDecl(name, line, $"cursor kind {cursor.Kind}" + KindHint(cursor.Kind)));
                    break;
            }
        }

        return declarations;
    }

    private static string KindHint(int kind) => kind switch
    {
        CursorKind.UnionDecl => " (union)",
        CursorKind.VarDecl => " (global variable)",
        _ => string.Empty,
    };

    private static EnumDecl ReadEnum(CXCursor cursor, string name, int line)
    {
        var constants = new List<EnumConstant>();
        foreach (CXCursor child in Children(cursor))
        {
            if (child.Kind == CursorKind.EnumConstantDecl)
            {
                constants.Add(new EnumConstant(Spelling(child), Line(child), Doc(child), LibClang.clang_getEnumConstantDeclValue(child)));
            }
        }

        return new EnumDecl(name, line, Doc(cursor), constants);
    }

    private static StructDecl ReadStruct(CXCursor cursor, string name, int line)
    {
        bool isDefinition = LibClang.clang_isCursorDefinition(cursor) != 0;
        var fields = new List<FieldDecl>();
        foreach (CXCursor child in Children(cursor))
        {
            if (child.Kind == CursorKind.FieldDecl)
            {
                fields.Add(new FieldDecl(
                    Spelling(child), Line(child), Doc(child), ConvertType(LibClang.clang_getCursorType(child)), LibClang.clang_Cursor_isBitField(child) != 0));
            }
        }

        return new StructDecl(name, line, Doc(cursor), isDefinition, fields);
    }

    private static FunctionDecl ReadFunction(CXCursor cursor, string name, int line)
    {
        var parameters = new List<ParameterDecl>();
        int count = LibClang.clang_Cursor_getNumArguments(cursor);
        for (uint i = 0; i < count; i++)
        {
            CXCursor argument = LibClang.clang_Cursor_getArgument(cursor, i);
            parameters.Add(new ParameterDecl(Spelling(argument), ConvertType(LibClang.clang_getCursorType(argument))));
        }

        bool variadic = LibClang.clang_isFunctionTypeVariadic(LibClang.clang_getCursorType(cursor)) != 0;
        return new FunctionDecl(name, line, Doc(cursor), ConvertType(LibClang.clang_getCursorResultType(cursor)), parameters, variadic);
    }

    private static CType ConvertType(CXType type)
    {
        string spelling = LibClang.Take(LibClang.clang_getTypeSpelling(type));
        switch (type.Kind)
        {
            case TypeKind.Elaborated:
                return ConvertType(LibClang.clang_Type_getNamedType(type));
            case TypeKind.Typedef:
            {
                CXCursor declaration = LibClang.clang_getTypeDeclaration(type);
                string name = Spelling(declaration);
                CType underlying = ConvertType(LibClang.clang_getTypedefDeclUnderlyingType(declaration));

                // typedef enum gg_dtype {...} gg_dtype; is the enum itself, not an alias to map separately.
                return underlying switch
                {
                    EnumRef e when e.Name == name => e,
                    StructRef s when s.Name == name => s,
                    _ => new TypedefName(name) { Spelling = spelling },
                };
            }

            case TypeKind.Record:
            {
                CXCursor declaration = LibClang.clang_getTypeDeclaration(type);
                return declaration.Kind == CursorKind.StructDecl
                    ? new StructRef(Spelling(declaration)) { Spelling = spelling }
                    : new TypedefName(spelling) { Spelling = spelling }; // unions: the emitter rejects the unknown name
            }

            case TypeKind.Enum:
                return new EnumRef(Spelling(LibClang.clang_getTypeDeclaration(type))) { Spelling = spelling };
            case TypeKind.Pointer:
                return new PointerType(ConvertType(LibClang.clang_getPointeeType(type))) { Spelling = spelling };
            case TypeKind.ConstantArray:
                return new ArrayType(ConvertType(LibClang.clang_getArrayElementType(type)), LibClang.clang_getArraySize(type)) { Spelling = spelling };
            default:
                return new BuiltinType(type.Kind) { Spelling = spelling };
        }
    }

    private static string Spelling(CXCursor cursor) => LibClang.Take(LibClang.clang_getCursorSpelling(cursor));

    private static int Line(CXCursor cursor)
    {
        uint line, column, offset;
        nint file;
        LibClang.clang_getSpellingLocation(LibClang.clang_getCursorLocation(cursor), &file, &line, &column, &offset);
        return (int)line;
    }

    private static string? Doc(CXCursor cursor)
    {
        string raw = LibClang.Take(LibClang.clang_Cursor_getRawCommentText(cursor));
        return raw.Length == 0 ? null : raw;
    }

    private static List<string> MacroBody(nint unit, CXCursor cursor)
    {
        CXToken* tokens;
        uint count;
        LibClang.clang_tokenize(unit, LibClang.clang_getCursorExtent(cursor), &tokens, &count);
        try
        {
            var body = new List<string>();
            for (uint i = 1; i < count; i++) // token 0 is the macro's name
            {
                body.Add(LibClang.Take(LibClang.clang_getTokenSpelling(unit, tokens[i])));
            }

            return body;
        }
        finally
        {
            LibClang.clang_disposeTokens(unit, tokens, count);
        }
    }

    /// <summary>
    /// libclang attaches doc comments to declarations only, so a macro's <c>/** ... */</c> is taken from the
    /// text: the comment that ends on the line right above the <c>#define</c>.
    /// </summary>
    private static string? MacroDoc(string[] lines, int line)
    {
        int end = line - 2; // zero-based index of the line above
        if (end < 0 || !lines[end].TrimEnd().EndsWith("*/", StringComparison.Ordinal))
        {
            return null;
        }

        int start = end;
        while (start >= 0 && !lines[start].Contains("/*", StringComparison.Ordinal))
        {
            start--;
        }

        if (start < 0 || !lines[start].TrimStart().StartsWith("/**", StringComparison.Ordinal))
        {
            return null;
        }

        return string.Join("\n", lines[start..(end + 1)]).Trim();
    }

    private static List<CXCursor> Children(CXCursor parent)
    {
        var children = new List<CXCursor>();
        GCHandle handle = GCHandle.Alloc(children);
        try
        {
            _ = LibClang.clang_visitChildren(parent, &CollectChild, GCHandle.ToIntPtr(handle)); // nonzero only when a visitor stops early
        }
        finally
        {
            handle.Free();
        }

        return children;
    }

    [UnmanagedCallersOnly(CallConvs = new[] { typeof(CallConvCdecl) })]
    private static int CollectChild(CXCursor cursor, CXCursor parent, nint clientData)
    {
        ((List<CXCursor>)GCHandle.FromIntPtr(clientData).Target!).Add(cursor);
        return LibClang.ChildVisitContinue;
    }
}
