using System.Runtime.InteropServices;

namespace GroupedGemm.Bindings.Clang;

// The slice of libclang's C API (clang-c/Index.h) the generator needs. Every signature is blittable:
// libclang passes its small handle structs by value, so they are mirrored field for field below.

/// <summary>CXCursor: a node of the AST.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct CXCursor
{
    public int Kind;
    public int XData;
    public nint Data0;
    public nint Data1;
    public nint Data2;
}

/// <summary>CXType: the type of a cursor.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct CXType
{
    public int Kind;
    public nint Data0;
    public nint Data1;
}

/// <summary>CXString: a string owned by libclang, released with clang_disposeString.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct CXString
{
    public nint Data;
    public uint PrivateFlags;
}

/// <summary>CXSourceLocation.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct CXSourceLocation
{
    public nint Ptr0;
    public nint Ptr1;
    public uint IntData;
}

/// <summary>CXSourceRange.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct CXSourceRange
{
    public nint Ptr0;
    public nint Ptr1;
    public uint BeginIntData;
    public uint EndIntData;
}

/// <summary>CXToken.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct CXToken
{
    public uint Int0;
    public uint Int1;
    public uint Int2;
    public uint Int3;
    public nint PtrData;
}

/// <summary>The CXCursorKind values the generator distinguishes.</summary>
internal static class CursorKind
{
    public const int StructDecl = 2;
    public const int UnionDecl = 3;
    public const int EnumDecl = 5;
    public const int FieldDecl = 6;
    public const int EnumConstantDecl = 7;
    public const int FunctionDecl = 8;
    public const int VarDecl = 9;
    public const int TypedefDecl = 20;
    public const int MacroDefinition = 501;
    public const int MacroExpansion = 502;
    public const int InclusionDirective = 503;
}

/// <summary>The CXTypeKind values the generator distinguishes.</summary>
internal static class TypeKind
{
    public const int Void = 2;
    public const int Bool = 3;
    public const int CharU = 4;
    public const int UChar = 5;
    public const int UShort = 8;
    public const int UInt = 9;
    public const int ULong = 10;
    public const int ULongLong = 11;
    public const int CharS = 13;
    public const int SChar = 14;
    public const int Short = 16;
    public const int Int = 17;
    public const int Long = 18;
    public const int LongLong = 19;
    public const int Float = 21;
    public const int Double = 22;
    public const int Pointer = 101;
    public const int Record = 105;
    public const int Enum = 106;
    public const int Typedef = 107;
    public const int FunctionNoProto = 110;
    public const int FunctionProto = 111;
    public const int ConstantArray = 112;
    public const int IncompleteArray = 114;
    public const int Elaborated = 119;
}

/// <summary>P/Invoke declarations of libclang.</summary>
internal static unsafe partial class LibClang
{
    /// <summary>The name the resolver in <see cref="LibClangResolver"/> answers for.</summary>
    public const string LibraryName = "libclang";

    /// <summary>CXTranslationUnit_DetailedPreprocessingRecord: keep macro definitions as cursors.</summary>
    public const uint DetailedPreprocessingRecord = 0x01;

    /// <summary>CXDiagnostic_Warning.</summary>
    public const int DiagnosticWarning = 2;

    /// <summary>CXChildVisit_Continue.</summary>
    public const int ChildVisitContinue = 1;

    [LibraryImport(LibraryName)] public static partial nint clang_createIndex(int excludeDeclarationsFromPch, int displayDiagnostics);
    [LibraryImport(LibraryName)] public static partial void clang_disposeIndex(nint index);
    [LibraryImport(LibraryName)] public static partial int clang_parseTranslationUnit2(nint index, byte* sourceFilename, byte** commandLineArgs, int numCommandLineArgs, void* unsavedFiles, uint numUnsavedFiles, uint options, nint* translationUnit);
    [LibraryImport(LibraryName)] public static partial void clang_disposeTranslationUnit(nint translationUnit);

    [LibraryImport(LibraryName)] public static partial uint clang_getNumDiagnostics(nint translationUnit);
    [LibraryImport(LibraryName)] public static partial nint clang_getDiagnostic(nint translationUnit, uint index);
    [LibraryImport(LibraryName)] public static partial int clang_getDiagnosticSeverity(nint diagnostic);
    [LibraryImport(LibraryName)] public static partial CXString clang_formatDiagnostic(nint diagnostic, uint options);
    [LibraryImport(LibraryName)] public static partial uint clang_defaultDiagnosticDisplayOptions();
    [LibraryImport(LibraryName)] public static partial void clang_disposeDiagnostic(nint diagnostic);

    [LibraryImport(LibraryName)] public static partial CXCursor clang_getTranslationUnitCursor(nint translationUnit);
    [LibraryImport(LibraryName)] public static partial uint clang_visitChildren(CXCursor parent, delegate* unmanaged[Cdecl]<CXCursor, CXCursor, nint, int> visitor, nint clientData);
    [LibraryImport(LibraryName)] public static partial CXString clang_getCursorSpelling(CXCursor cursor);
    [LibraryImport(LibraryName)] public static partial uint clang_isCursorDefinition(CXCursor cursor);
    [LibraryImport(LibraryName)] public static partial CXSourceLocation clang_getCursorLocation(CXCursor cursor);
    [LibraryImport(LibraryName)] public static partial CXSourceRange clang_getCursorExtent(CXCursor cursor);
    [LibraryImport(LibraryName)] public static partial int clang_Location_isFromMainFile(CXSourceLocation location);
    [LibraryImport(LibraryName)] public static partial void clang_getSpellingLocation(CXSourceLocation location, nint* file, uint* line, uint* column, uint* offset);
    [LibraryImport(LibraryName)] public static partial CXString clang_Cursor_getRawCommentText(CXCursor cursor);

    [LibraryImport(LibraryName)] public static partial CXType clang_getCursorType(CXCursor cursor);
    [LibraryImport(LibraryName)] public static partial CXType clang_getCursorResultType(CXCursor cursor);
    [LibraryImport(LibraryName)] public static partial CXType clang_getTypedefDeclUnderlyingType(CXCursor cursor);
    [LibraryImport(LibraryName)] public static partial long clang_getEnumConstantDeclValue(CXCursor cursor);
    [LibraryImport(LibraryName)] public static partial int clang_Cursor_getNumArguments(CXCursor cursor);
    [LibraryImport(LibraryName)] public static partial CXCursor clang_Cursor_getArgument(CXCursor cursor, uint index);
    [LibraryImport(LibraryName)] public static partial uint clang_Cursor_isMacroFunctionLike(CXCursor cursor);
    [LibraryImport(LibraryName)] public static partial uint clang_Cursor_isBitField(CXCursor cursor);

    [LibraryImport(LibraryName)] public static partial CXType clang_getPointeeType(CXType type);
    [LibraryImport(LibraryName)] public static partial CXType clang_Type_getNamedType(CXType type);
    [LibraryImport(LibraryName)] public static partial CXType clang_getArrayElementType(CXType type);
    [LibraryImport(LibraryName)] public static partial long clang_getArraySize(CXType type);
    [LibraryImport(LibraryName)] public static partial CXCursor clang_getTypeDeclaration(CXType type);
    [LibraryImport(LibraryName)] public static partial CXString clang_getTypeSpelling(CXType type);
    [LibraryImport(LibraryName)] public static partial uint clang_isFunctionTypeVariadic(CXType type);

    [LibraryImport(LibraryName)] public static partial void clang_tokenize(nint translationUnit, CXSourceRange range, CXToken** tokens, uint* numTokens);
    [LibraryImport(LibraryName)] public static partial CXString clang_getTokenSpelling(nint translationUnit, CXToken token);
    [LibraryImport(LibraryName)] public static partial void clang_disposeTokens(nint translationUnit, CXToken* tokens, uint numTokens);

    [LibraryImport(LibraryName)] public static partial byte* clang_getCString(CXString text);
    [LibraryImport(LibraryName)] public static partial void clang_disposeString(CXString text);

    /// <summary>Copies a CXString into a managed string and releases it.</summary>
    public static string Take(CXString text)
    {
        try
        {
            byte* chars = clang_getCString(text);
            return chars == null ? string.Empty : Marshal.PtrToStringUTF8((nint)chars) ?? string.Empty;
        }
        finally
        {
            clang_disposeString(text);
        }
    }
}
