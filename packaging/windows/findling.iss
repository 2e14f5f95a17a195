; Inno Setup 6 script for Findling: a per-user install that needs no administrator rights.
;
; packaging/build.py compiles it after PyInstaller, roughly as:
;   ISCC.exe /DAppVersion=0.1.0 /DSourceDir=<repo>\dist\Findling /DOutputDir=<repo>\dist ^
;            packaging\windows\findling.iss
; Relative paths below are relative to this file. Requires Inno Setup 6.3 or later.
;
; SPDX-License-Identifier: AGPL-3.0-or-later

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\Findling"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif

#define AppName "Findling"
#define AppExe "Findling.exe"
#define AppPublisher "The Findling developers"
; The same key and value name as app/autostart.py, so that the installer task and the app's
; "Launch at login" setting see and change the same entry.
#define RunKey "Software\Microsoft\Windows\CurrentVersion\Run"

[Setup]
; Never change AppId: it identifies the installation for upgrades and uninstall.
AppId={{56B6A2DD-B7B2-4E66-A4D6-DC8F058BEB1C}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher={#AppPublisher}
AppCopyright=Copyright (C) {#AppPublisher}. GNU AGPL v3.0 or later.
; Per-user: installs into %LOCALAPPDATA%\Programs\Findling and writes only to HKCU.
PrivilegesRequired=lowest
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir={#OutputDir}
OutputBaseFilename=Findling-{#AppVersion}-windows-x64-setup
SetupIconFile=..\..\resources\icons\findling.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
LicenseFile=..\..\LICENSE
WizardStyle=modern
Compression=lzma2/max
SolidCompression=yes
; Close a running Findling before files are replaced.
CloseApplications=yes
RestartApplications=no
; The optional "add to PATH" task changes the user's environment.
ChangesEnvironment=yes
; To sign the installer and uninstaller, define a sign tool named "signtool" in the Inno Setup
; IDE or on the command line (/Ssigntool=...) and uncomment:
; SignTool=signtool
; SignedUninstaller=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "autostart"; Description: "Start Findling in the background when I sign in"; GroupDescription: "Startup:"; Flags: unchecked
Name: "addtopath"; Description: "Add the findling-cli command to my PATH"; GroupDescription: "Command line:"; Flags: unchecked

[Files]
; The whole PyInstaller onedir build: Findling.exe (desktop app), findling-cli.exe (command
; line), _internal\ (Python, Qt, models, licences), LICENSE and THIRD_PARTY_NOTICES.md.
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; Comment: "Search and question your own files, offline"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
Root: HKCU; Subkey: "{#RunKey}"; ValueType: string; ValueName: "{#AppName}"; ValueData: """{app}\{#AppExe}"" --tray"; Flags: uninsdeletevalue; Tasks: autostart

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

; The index, settings, logs and downloaded models live in the user's data folders
; (%LOCALAPPDATA%\Findling: platformdirs' user_data_dir, user_config_dir and user_log_dir)
; and are kept on uninstall and upgrade, unless the user answers Yes to the uninstaller's
; question below (a silent uninstall always keeps them).

[Code]
const
  EnvKey = 'Environment';

function PathListHas(Paths, Dir: string): Boolean;
begin
  Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Paths) + ';') > 0;
end;

procedure AddToUserPath(Dir: string);
var
  Paths: string;
begin
  if not RegQueryStringValue(HKEY_CURRENT_USER, EnvKey, 'Path', Paths) then
    Paths := '';
  if PathListHas(Paths, Dir) then
    Exit;
  if (Paths <> '') and (Copy(Paths, Length(Paths), 1) <> ';') then
    Paths := Paths + ';';
  RegWriteExpandStringValue(HKEY_CURRENT_USER, EnvKey, 'Path', Paths + Dir);
end;

procedure RemoveFromUserPath(Dir: string);
var
  Paths: string;
  P: Integer;
begin
  if not RegQueryStringValue(HKEY_CURRENT_USER, EnvKey, 'Path', Paths) then
    Exit;
  { Work on ";a;b;c;" so that every entry is enclosed in separators. }
  Paths := ';' + Paths + ';';
  P := Pos(';' + Uppercase(Dir) + ';', Uppercase(Paths));
  if P = 0 then
    Exit;
  Delete(Paths, P, Length(Dir) + 1);
  Paths := Copy(Paths, 2, Length(Paths) - 2);
  RegWriteExpandStringValue(HKEY_CURRENT_USER, EnvKey, 'Path', Paths);
end;

procedure CurStepChanged(CurStep: TSetupStep);
begin
  if (CurStep = ssPostInstall) and WizardIsTaskSelected('addtopath') then
    AddToUserPath(ExpandConstant('{app}'));
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if CurUninstallStep = usUninstall then
  begin
    { Default answer No: the index and settings survive unless the user asks. }
    if (not UninstallSilent) and (MsgBox('Also delete your Findling index, settings and ' +
        'downloaded models? Your own files are never touched.', mbConfirmation,
        MB_YESNO or MB_DEFBUTTON2) = IDYES) then
    begin
      DelTree(ExpandConstant('{localappdata}\{#AppName}'), True, True, True);
    end;
  end;
  if CurUninstallStep = usPostUninstall then
  begin
    RemoveFromUserPath(ExpandConstant('{app}'));
    { The app may have turned on launch at login itself: leave no entry pointing nowhere. }
    if RegValueExists(HKEY_CURRENT_USER, '{#RunKey}', '{#AppName}') then
      RegDeleteValue(HKEY_CURRENT_USER, '{#RunKey}', '{#AppName}');
  end;
end;
